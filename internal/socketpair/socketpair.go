// Package socketpair makes connected pairs of Unix stream sockets, the
// kind hostd's data plane runs on: one home for the host's launcher, the
// SDK's test harness and the tests of both.
package socketpair

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// New returns a connected pair of Unix stream sockets: one end as a
// connection, the other as a file, for a child process to inherit (as
// exec.Cmd.ExtraFiles) or to be turned into a connection with
// net.FileConn. Both are close-on-exec: a child gets the file only when it
// is passed on purpose.
func New() (*net.UnixConn, *os.File, error) {
	fds, err := cloexecPair()
	if err != nil {
		return nil, nil, err
	}
	c, err := fileConn(fds[0], "socketpair")
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	return c, os.NewFile(uintptr(fds[1]), "socketpair"), nil
}

// Conns returns both ends of a connected pair of Unix stream sockets as
// connections.
func Conns() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := cloexecPair()
	if err != nil {
		return nil, nil, err
	}
	a, err := fileConn(fds[0], "socketpair")
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	b, err := fileConn(fds[1], "socketpair")
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// cloexecPair makes the pair with both descriptors close-on-exec. It
// holds ForkLock, as package net does on systems without SOCK_CLOEXEC, so
// that a concurrent fork cannot inherit them before the flag is set;
// SOCK_CLOEXEC itself is Linux's alone.
func cloexecPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fds, fmt.Errorf("socketpair: %w", err)
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}

// fileConn turns a socket descriptor into a connection and closes the
// descriptor (the connection holds its own duplicate), also on error.
func fileConn(fd int, name string) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("socketpair: %T is not a Unix connection", c)
	}
	return uc, nil
}
