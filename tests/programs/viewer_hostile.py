"""Functions and a file whose names are markup: the viewer must show them as text."""
import time

EVIL = "<img src=x onerror=alert(1)>"
SRC = '''
def spin():
    end = time.time() + 0.3
    s = 0
    while time.time() < end:
        s += 1
    return s
'''
ns = {"time": time}
exec(compile(SRC, "</script><img src=x onerror=alert(2)>.py", "exec"), ns)
spin = ns["spin"]
spin.__code__ = spin.__code__.replace(co_name=EVIL, co_qualname=EVIL) if hasattr(spin.__code__, "co_qualname") \
    else spin.__code__.replace(co_name=EVIL)


def caller():
    return spin()


caller()
