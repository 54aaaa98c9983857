package hostd_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hostd/hostd/framework/hostd"
	"github.com/hostd/hostd/internal/hostdtest"
)

func TestAdminAPI(t *testing.T) {
	h := hostdtest.Start(t, config(swapTOML("v1", bin+"/echo", 1000))+"\n[admin]\nlisten = \"127.0.0.1:0\"\n")
	admin := "http://" + h.AdminAddr().String()
	h.Get(t, "/gen").RequireStatus(200)

	t.Run("GET /status reports the plugins", func(t *testing.T) {
		res, err := http.Get(admin + "/status")
		require.NoError(t, err)
		defer res.Body.Close()
		var st hostd.Status
		require.NoError(t, json.NewDecoder(res.Body).Decode(&st))
		require.Equal(t, h.File, st.Config)
		require.Equal(t, []string{h.Addr}, st.Listen)
		gen := st.Plugins["gen"]
		require.True(t, gen.Up)
		require.EqualValues(t, 1, gen.Generation)
		require.Equal(t, h.Plugin("gen").Current().Pid(), gen.Pid)
		require.EqualValues(t, 1, gen.Requests)
	})

	t.Run("POST /plugins/NAME/restart starts a new generation", func(t *testing.T) {
		pid := h.Plugin("gen").Current().Pid()
		res, err := http.Post(admin+"/plugins/gen/restart", "", nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode, string(body))
		require.NotEqual(t, pid, h.Plugin("gen").Current().Pid())
		require.EqualValues(t, 2, h.Plugin("gen").Current().Generation())
		h.Get(t, "/gen").RequireStatus(200).RequireBody("v1")
	})

	t.Run("POST /reload refuses a bad file with its reason", func(t *testing.T) {
		require.NoError(t, writeFile(h.File, "[server]\nlisten = []\n"))
		res, err := http.Post(admin+"/reload", "", nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 400, res.StatusCode)
		require.True(t, strings.Contains(string(body), "server.listen: at least one address"), string(body))
	})

	t.Run("restarting an unknown plugin is a 400", func(t *testing.T) {
		res, err := http.Post(admin+"/plugins/nope/restart", "", nil)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 400, res.StatusCode)
	})
}
