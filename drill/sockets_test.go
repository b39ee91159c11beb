package drill

import (
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTCPPorts(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("tcpPorts reads /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()

	ports, err := tcpPorts(os.Getpid())
	require.NoError(t, err)
	local := portOf(c.LocalAddr().String())
	require.NotZero(t, local)
	require.True(t, ports[local], "the dialled connection's port %d is among %v", local, ports)
	require.True(t, ports[portOf(ln.Addr().String())], "the listener's port is among %v", ports)

	require.NoError(t, c.Close())
	ports, err = tcpPorts(os.Getpid())
	require.NoError(t, err)
	require.False(t, ports[local], "a closed connection's port is not")

	_, err = tcpPorts(1 << 30)
	require.Error(t, err, "no such process")
	require.Zero(t, portOf("not an address"))
}
