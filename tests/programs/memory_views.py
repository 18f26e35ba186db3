"""A run whose memory views differ: 24 MB kept to the end (live, leaks),
a 48 MB spike freed again (peak, allocated)."""
kept = []


def hold(n):
    return [bytearray(4096) for _ in range(n)]


def spike(n):
    t = [bytearray(4096) for _ in range(n)]
    return len(t)


kept.append(hold(6000))
spike(12000)
print("done")
