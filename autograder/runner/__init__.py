"""Running untrusted notebook code in sandboxed worker processes.

The runner knows processes, not chapters: it runs a :class:`Task` (code cells,
then calls of named functions on given inputs) in a fresh sandboxed worker and
returns an :class:`Outcome` holding plain data only.  What the calls should
have returned, and what that is worth, is the grader's business
(:mod:`autograder.grading`).

- :mod:`~autograder.runner.pool`: the grader's side (sandboxes, limits, reading results);
- :mod:`~autograder.runner.zygote`: the pre-warmed process that forks workers;
- :mod:`~autograder.runner.worker`: what runs in a worker;
- :mod:`~autograder.runner.wire`: the data format between them (no pickle);
- :mod:`~autograder.runner.system`: namespaces, prctl and ``/proc``.
"""
