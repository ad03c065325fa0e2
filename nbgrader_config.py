"""nbgrader configuration for instructors.

Run nbgrader from the repository root: ``solutions/<assignment>/`` is the
source folder (each assignment id is a chapter folder, e.g. ``01_sigmoid``),
releases go to ``release/``, collected work is read from
``submitted/<student_id>/<assignment>/`` and grades go to ``gradebook.db``.
The student notebooks committed in ``chapters/`` are generated from the same
sources by ``make exercises``.
"""

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "softmax-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# Only the notebooks are released: nothing else lives in a solutions folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A student's code gets a generous minute per cell; the reference needs milliseconds.
c.Execute.timeout = 60
