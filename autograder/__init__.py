"""Reference implementations and grading checks for the softmax course.

``autograder.reference`` holds the numerically careful implementations that
every exercise is graded against.  ``autograder.checks`` defines, for each
exercise, which inputs are tried and how answers are compared; it knows the
reference but nothing about notebooks or processes.
"""
