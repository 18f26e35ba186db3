"""Starts COUNT short-lived threads (default 10,000), a few at a time, each
calling a function; prints how many ran."""
import sys
import threading

count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
done = []


def work(i):
    done.append(i * i)


for start in range(0, count, 50):
    batch = [threading.Thread(target=work, args=(i,)) for i in range(start, min(start + 50, count))]
    for t in batch:
        t.start()
    for t in batch:
        t.join()
print(len(done))
