"""Student-side Jupyter server extension: arrives with the student-side issue."""
