"""Pure domain: progress state and the classroom/student virtual actors. No I/O, no Ray."""
