//go:build !linux

package pluginhost

import "net"

// canPassDescriptors: elsewhere sockets are relayed as frames.
const canPassDescriptors = false

// dupDescriptor is not used where descriptors are not passed.
func dupDescriptor(net.Conn) int { return -1 }
