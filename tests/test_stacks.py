"""The stacks the sampler records for programs whose shape is known."""
from conftest import all_stacks, line_of, names, profile_program, program


def frames_in(stack, file):
    """The frames of stack that belong to a program file."""
    return [f for f in stack if f[1] == file]


def main_thread_stacks(profile):
    for thread, stacks in profile.stacks().items():
        if thread.name == "MainThread":
            return stacks
    raise AssertionError("no MainThread in %r" % (profile.threads,))


def test_recursion(tmp_path):
    _, p = profile_program(tmp_path, "recursion.py", "0.8", options=["--rate", "2000"])
    path = program("recursion.py")
    recurse = line_of("recursion.py", "recurse")
    calls = {line_of("recursion.py", "call"), line_of("recursion.py", "final")}
    stacks = main_thread_stacks(p)
    deep_enough = 0
    for stack, weight in stacks.items():
        mine = frames_in(stack, path)
        fibs = [f for f in mine if f[0] == "fib"]
        if len(fibs) < 5:
            continue
        deep_enough += weight
        # main -> fib -> fib -> ... : the fib frames are contiguous, main's
        # frame calls the first on the marked line, every caller fib is on
        # the recursive line.
        ns = names(mine)
        first = ns.index("fib")
        assert ns[first - 1] == "main", ns
        assert mine[first - 1][2] in calls, mine
        assert all(n == "fib" for n in ns[first:]), ns
        assert all(f[2] == recurse for f in mine[first:-1]), mine
        assert mine[0][0] == "<module>"
    assert deep_enough > 0, "no sample with 5 nested fib frames"


def test_thousand_frame_stack(tmp_path):
    _, p = profile_program(tmp_path, "deep.py", "0.8", options=["--rate", "1000"])
    path = program("deep.py")
    deep_line = line_of("deep.py", "deep")
    best = 0
    for _, stack, weight in all_stacks(p):
        mine = frames_in(stack, path)
        count = sum(1 for f in mine if f[0] == "deep")
        if count >= 1000:
            # spin() at the leaf, or, in the moment the bottom deep() calls
            # it or it returns, that deep() itself, at its call.
            assert mine[-1][0] == "spin" or (mine[-1][0] == "deep" and mine[-1][2] == line_of("deep.py", "bottom")), \
                mine[-3:]
            deeps = [f for f in mine if f[0] == "deep"]
            assert all(f[2] == deep_line for f in deeps[:-1])
            assert deeps[-1][2] == line_of("deep.py", "bottom")
            assert names(mine).count("deep") == 1000  # exactly: not one frame lost or doubled
        best = max(best, count)
    assert best >= 1000, "deepest stack had %d deep() frames" % best


def test_generators(tmp_path):
    _, p = profile_program(tmp_path, "generators.py", "0.8", options=["--rate", "2000"])
    path = program("generators.py")
    consume = line_of("generators.py", "consume")
    squares = line_of("generators.py", "squares")
    hits = 0
    for _, stack, weight in all_stacks(p):
        mine = frames_in(stack, path)
        if mine and mine[-1][0] == "work":
            # The generator frame sits between its consumer and its callee.
            assert names(mine)[-3:] == ["consume", "squares", "work"], names(mine)
            assert mine[-3][2] == consume and mine[-2][2] == squares, mine
            hits += weight
    assert hits > 0


def test_coroutines(tmp_path):
    _, p = profile_program(tmp_path, "coroutines.py", "0.8", options=["--rate", "2000"])
    path = program("coroutines.py")
    marks = [line_of("coroutines.py", m) for m in ("middle", "inner")]
    hits = 0
    for _, stack, weight in all_stacks(p):
        mine = frames_in(stack, path)
        if mine and mine[-1][0] == "crunch":
            # A task runs outer's gathered children: middle -> inner -> crunch.
            assert names(mine)[-3:] == ["middle", "inner", "crunch"], names(mine)
            assert [f[2] for f in mine[-3:-1]] == marks, mine
            hits += weight
    assert hits > 0
    # The event loop itself is part of the stack below the coroutines.
    assert any(
        "asyncio" in f[1] for _, s, _ in all_stacks(p) for f in s if s and s[-1][0] == "crunch"
    )


def test_threads_starting_and_ending(tmp_path):
    _, p = profile_program(tmp_path, "thread_lifecycle.py", options=["--rate", "2000"])
    path = program("thread_lifecycle.py")
    by_function = {}
    for thread, stack, weight in all_stacks(p):
        for f in frames_in(stack, path):
            if f[0].startswith("task_") or f[0] == "main_work":
                by_function.setdefault(f[0], []).append((thread, weight))
    assert sorted(by_function) == ["main_work", "task_alpha", "task_beta", "task_delta", "task_gamma"]
    for function, where in by_function.items():
        assert sum(w for _, w in where) > 0
        if function == "main_work":
            assert {t.name for t, _ in where} == {"MainThread"}
        else:
            # Every sample of task_X is in a thread of its own named X-thread
            # (a later thread may reuse an ended thread's ident, then the
            # profile's thread carries both names).
            expected = function.replace("task_", "") + "-thread"
            for thread, _ in where:
                assert expected in thread.name.split(", "), (function, thread)
                assert thread.name != "MainThread"
    # The workers' threads are not the main thread.
    main_idents = {t.ident for t in p.threads if t.name == "MainThread"}
    assert len(main_idents) == 1


def test_exceptions_unwinding(tmp_path):
    _, p = profile_program(tmp_path, "exceptions.py", "0.8", options=["--rate", "2000"])
    path = program("exceptions.py")
    line2 = line_of("exceptions.py", "level2")
    line1 = line_of("exceptions.py", "level1")
    seen = {"level3": 0, "handle": 0}
    for _, stack, weight in all_stacks(p):
        mine = frames_in(stack, path)
        ns = names(mine)
        for i, n in enumerate(ns):
            # Every frame has the caller it must have: no frame of an unwound
            # call survives, none is missing.
            if n == "level3":
                assert ns[i - 2 : i] == ["level1", "level2"], ns
                assert mine[i - 1][2] == line2 and mine[i - 2][2] == line1, mine
            if n == "level2":
                assert ns[i - 1] == "level1", ns
            if n == "handle":
                assert ns[i - 1] == "level1" and "level2" not in ns, ns
            if n == "level1":
                assert ns[i - 1] == "main", ns
            if n in seen:
                seen[n] += weight
    assert seen["level3"] > 0 and seen["handle"] > 0, seen


def test_line_numbers(tmp_path):
    _, p = profile_program(tmp_path, "hotline.py", "0.8", options=["--rate", "2000"])
    path = program("hotline.py")
    hot = line_of("hotline.py", "hot")
    on_line = elsewhere = 0
    for _, stack, weight in all_stacks(p):
        mine = frames_in(stack, path)
        if mine and mine[-1][0] == "hot":
            if mine[-1][2] == hot:
                on_line += weight
            else:
                elsewhere += weight
    assert on_line > 0
    assert on_line >= 0.9 * (on_line + elsewhere), (on_line, elsewhere)


def test_stacks_are_rooted_in_the_program(tmp_path):
    # Whatever pyrometer itself put below the program, the program's own
    # frames start at its <module> frame, once, and only at the bottom.
    _, p = profile_program(tmp_path, "recursion.py", "0.3")
    path = program("recursion.py")
    for _, stack, _ in all_stacks(p):
        mine = frames_in(stack, path)
        if mine:
            assert mine[0][0] == "<module>"
            assert names(mine).count("<module>") == 1
            start = stack.index(mine[0])
            assert all(f[1] == path for f in stack[start:]), stack[start:]


def test_deep_churning_stacks_keep_their_share(tmp_path):
    # Deep stacks that change every microsecond are often caught mid-change:
    # such ticks must still land in the region that was running (below the
    # frames that held still), not in the last stack read whole, which for
    # a deep region is often the other region's.
    proc, p = profile_program(tmp_path, "deep_and_shallow.py", "1.5", options=["--rate", "1000"])
    spent_deep, spent_shallow = map(float, proc.stdout.split())
    truth = 100 * spent_deep / (spent_deep + spent_shallow)
    deep = shallow = 0
    for _, stack, weight in all_stacks(p, "wall"):
        ns = names(stack)
        deep += weight * ("deep" in ns)
        shallow += weight * ("shallow" in ns)
    share = 100 * deep / (deep + shallow)
    assert abs(share - truth) <= 8, (share, truth)


def test_no_stack_shows_pyrometers_own_code(tmp_path):
    """Ending threads are named by pyrometer's own code on the program's
    threads: that time stays the program's (with the caller in threading),
    and no stack shows pyrometer's frames."""
    import os
    import threading

    import pyrometer

    proc, p = profile_program(tmp_path, "thread_name_at_end.py", options=["--rate", "2000"])
    assert proc.stdout == b"done\n"
    own = os.path.dirname(pyrometer.__file__)
    stacks = [(t, s, w) for t, s, w in all_stacks(p) if t.name != "MainThread"]
    assert not [s for _, s, _ in stacks if any(f[1].startswith(own) for f in s)]
    # Each thread spins as long in run() as in the name read at its end;
    # both halves are there.
    in_run = sum(w for _, s, w in stacks if any(f[0].endswith("run") and f[1].endswith("name_at_end.py") for f in s))
    # (the caller: Thread._delete, or _bootstrap_inner itself on 3.9/3.10)
    at_end = sum(w for _, s, w in stacks if s and s[-1][1] == threading.__file__)
    assert in_run > 0 and at_end > 0.5 * in_run, (in_run, at_end)
