package socketpair_test

import (
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/internal/socketpair"
)

func TestConnsCarryBytesBothWays(t *testing.T) {
	a, b, err := socketpair.Conns()
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	exchange(t, a, b)
}

func TestNewGivesAFileForTheOtherEnd(t *testing.T) {
	c, f, err := socketpair.New()
	require.NoError(t, err)
	defer c.Close()
	// A child inheriting it by accident would keep the data plane open
	// after hostd closes its end: it travels to a child only on purpose.
	requireCloseOnExec(t, int(f.Fd()))
	fc, err := net.FileConn(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	defer fc.Close()
	exchange(t, c, fc)

	require.NoError(t, c.Close())
	_, err = fc.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the other end sees the close")
}

func requireCloseOnExec(t *testing.T, fd int) {
	t.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	require.Zero(t, errno)
	require.NotZero(t, flags&syscall.FD_CLOEXEC, "descriptor %d is close-on-exec", fd)
}

func exchange(t *testing.T, x, y net.Conn) {
	t.Helper()
	for _, dir := range [][2]net.Conn{{x, y}, {y, x}} {
		_, err := dir[0].Write([]byte("ping"))
		require.NoError(t, err)
		got := make([]byte, 4)
		_, err = io.ReadFull(dir[1], got)
		require.NoError(t, err)
		require.Equal(t, "ping", string(got))
	}
}
