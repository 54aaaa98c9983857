//go:build race

package protocol

import (
	"runtime"
	"unsafe"
)

// ioSync tells the race detector that a frame read happens after its
// write, which it cannot see through the socket: as syscall.Read and
// syscall.Write do for plain I/O, Writer releases and Reader acquires it.
// It matters when both ends live in one process, as in sdktest.
var ioSync int64

func raceReleaseMerge() { runtime.RaceReleaseMerge(unsafe.Pointer(&ioSync)) }
func raceAcquire()      { runtime.RaceAcquire(unsafe.Pointer(&ioSync)) }
