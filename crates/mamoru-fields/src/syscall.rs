//! Fields of the syscall source (evt, proc, thread, fd, fs.path, user, group, container, k8s). Under construction.
