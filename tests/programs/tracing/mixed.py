import threading, functools

def deco(f):
    @functools.wraps(f)
    def wrapper(*a, **k):
        return f(*a, **k)
    return wrapper

@deco
def fib(n):
    if n < 2: return n
    return fib(n - 1) + fib(n - 2)

def gen(n):
    for i in range(n):
        yield i * 2

class K:
    def meth(self, x):
        try:
            if x % 3 == 0:
                raise ValueError(x)
        except ValueError:
            return -1
        return x

def work():
    s = 0
    for i in range(20): s += i
    while s > 0: s -= 7
    sq = [i * i for i in range(10)]
    d = {i: i for i in range(5)}
    g = list(gen(6))
    ks = [K().meth(i) for i in range(7)]
    unfinished = gen(100); next(unfinished)
    return fib(8), sq, d, g, ks

t = threading.Thread(target=work); t.start(); t.join()
print(work()[0])
if False:
    print("never")
