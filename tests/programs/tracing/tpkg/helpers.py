def score(word):
    vowels = sum(1 for c in word if c in "aeiou")
    return vowels * 2 + len(word)


def strict(n):
    if n < 0:
        raise ValueError("negative: %d" % n)
    return n


def unused():
    return "never called"
