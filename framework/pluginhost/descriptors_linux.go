package pluginhost

import (
	"net"
	"syscall"
)

// canPassDescriptors: sockets travel to plugins as descriptors.
const canPassDescriptors = true

// dupDescriptor returns a close-on-exec duplicate of the descriptor of a
// TCP or Unix connection, or -1 for any other connection (a TLS one, say),
// whose bytes must be relayed.
func dupDescriptor(conn net.Conn) int {
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return -1
	}
	rc, err := conn.(syscall.Conn).SyscallConn()
	if err != nil {
		return -1
	}
	nfd := -1
	_ = rc.Control(func(fd uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if e == 0 {
			nfd = int(r)
		}
	})
	return nfd
}
