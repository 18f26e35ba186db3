"""Call-heavy object-oriented code: a small cooperative task scheduler in the
spirit of the classic "richards" benchmark (written for pyrometer, not copied):
tasks of four kinds pass messages through linked-list queues; every step is a
handful of small method calls, attribute reads and polymorphic dispatch.

    python call_heavy.py SIZE      # SIZE = scheduler rounds (x1000)
"""
import sys
import time

DESCRIPTION = "OO scheduler: many small method calls, attribute access, polymorphism"
FULL_SIZE = 520
QUICK_SIZE = 160


class Message:
    def __init__(self, kind, value):
        self.kind = kind
        self.value = value
        self.hops = 0
        self.next = None

    def stamp(self):
        self.hops += 1
        return self


class Queue:
    def __init__(self):
        self.head = None
        self.tail = None
        self.length = 0

    def empty(self):
        return self.head is None

    def push(self, msg):
        msg.next = None
        if self.tail is None:
            self.head = msg
        else:
            self.tail.next = msg
        self.tail = msg
        self.length += 1

    def pop(self):
        msg = self.head
        self.head = msg.next
        if self.head is None:
            self.tail = None
        self.length -= 1
        msg.next = None
        return msg


class Task:
    def __init__(self, name, priority):
        self.name = name
        self.priority = priority
        self.inbox = Queue()
        self.held = False
        self.steps = 0

    def has_work(self):
        return not self.inbox.empty()

    def ready(self):
        return not self.held and self.has_work()

    def send(self, kernel, target, msg):
        target.inbox.push(msg.stamp())
        kernel.tick()

    def step(self, kernel):
        self.steps += 1
        self.handle(kernel, self.inbox.pop())

    def handle(self, kernel, msg):
        raise NotImplementedError


class Source(Task):
    """Lowest priority: runs when nothing else can, makes new work."""

    def __init__(self, name, priority, workers, pool):
        Task.__init__(self, name, priority)
        self.workers = workers
        self.pool = pool
        self.seed = 74755
        self.turn = 0

    def has_work(self):
        return True

    def random(self):
        self.seed = (self.seed * 1309 + 13849) & 0xFFFF
        return self.seed

    def step(self, kernel):
        self.steps += 1
        worker = self.workers[self.turn]
        self.turn = (self.turn + 1) % len(self.workers)
        msg = self.pool.take(kernel, self.random())
        self.send(kernel, worker, msg)
        if self.steps % 7 == 0:
            kernel.release_all()


class Worker(Task):
    def __init__(self, name, priority, handlers):
        Task.__init__(self, name, priority)
        self.handlers = handlers

    def transform(self, value):
        return ((value << 3) ^ (value >> 2) ^ self.priority) & 0xFFFF

    def handle(self, kernel, msg):
        msg.value = self.transform(msg.value)
        target = self.handlers[msg.value & 1]
        self.send(kernel, target, msg)


class Handler(Task):
    def __init__(self, name, priority, device):
        Task.__init__(self, name, priority)
        self.device = device
        self.batch = []

    def handle(self, kernel, msg):
        self.batch.append(msg)
        if len(self.batch) >= 4:
            total = 0
            for m in self.batch:
                total += m.value
            head = self.batch[0]
            head.kind = "batch"
            head.value = total & 0xFFFFF
            for m in self.batch[1:]:
                kernel.pool.give(m)
            self.batch = []
            self.send(kernel, self.device, head)
            if total & 3 == 0:
                self.held = True


class Device(Task):
    def __init__(self, name, priority):
        Task.__init__(self, name, priority)
        self.total = 0
        self.batches = 0

    def handle(self, kernel, msg):
        self.total = (self.total * 31 + msg.value + msg.hops) % 1000000007
        self.batches += 1
        kernel.pool.give(msg)


class Pool:
    def __init__(self):
        self.free = []
        self.made = 0

    def take(self, kernel, value):
        if self.free:
            msg = self.free.pop()
            msg.kind = "work"
            msg.value = value
            msg.hops = 0
            return msg
        self.made += 1
        return Message("work", value)

    def give(self, msg):
        self.free.append(msg)


class Kernel:
    def __init__(self):
        self.clock = 0
        self.switches = 0
        self.pool = Pool()
        devices = [Device("dev%d" % i, 40 + i) for i in range(2)]
        handlers = [Handler("hnd%d" % i, 30 + i, devices[i]) for i in range(2)]
        workers = [Worker("wrk%d" % i, 20 + i, handlers) for i in range(3)]
        self.devices = devices
        self.tasks = sorted(devices + handlers + workers, key=lambda t: -t.priority)
        self.tasks.append(Source("src", 1, workers, self.pool))

    def tick(self):
        self.clock += 1

    def release_all(self):
        for task in self.tasks:
            task.held = False

    def pick(self):
        for task in self.tasks:
            if task.ready():
                return task
        return None

    def run(self, rounds):
        for _ in range(rounds):
            task = self.pick()
            self.switches += 1
            task.step(self)


def work(size):
    kernel = Kernel()
    kernel.run(size * 1000)
    totals = [d.total for d in kernel.devices]
    batches = sum(d.batches for d in kernel.devices)
    return "call_heavy size=%d switches=%d clock=%d batches=%d made=%d totals=%s" % (
        size, kernel.switches, kernel.clock, batches, kernel.pool.made, totals)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
