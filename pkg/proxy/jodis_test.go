package proxy

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// TestJodis: going online registers the jodis node in ZooKeeper or etcd
// (at the Codis 3 path, or the Codis 2 path with jodis_compatible); a node
// removed by someone else is registered again; closing removes it.
func TestJodis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ZooKeeper and etcd")
	}
	for _, tc := range []struct {
		coord      string
		compatible bool
	}{
		{"zookeeper", false},
		{"zookeeper", true},
		{"etcd", false},
	} {
		t.Run(fmt.Sprintf("%s/compatible=%v", tc.coord, tc.compatible), func(t *testing.T) {
			var srv *testenv.Server
			if tc.coord == "zookeeper" {
				srv = testenv.StartZooKeeper(t)
			} else {
				srv = testenv.StartEtcd(t)
			}
			c := testConfig()
			c.JodisName = tc.coord
			c.JodisAddr = srv.Addr
			c.JodisCompatible = tc.compatible
			c.JodisTimeout.UnmarshalText([]byte("10s"))
			p := startProxy(t, c)
			m := p.Model()
			want := models.JodisPath("test", m.Token)
			if tc.compatible {
				want = models.JodisCompatPath("test", m.Token)
			}
			if m.JodisPath != want {
				t.Fatalf("jodis_path %q, want %q", m.JodisPath, want)
			}
			if err := p.Online(); err != nil {
				t.Fatal(err)
			}
			client, err := models.NewClient(tc.coord, srv.Addr, "", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			readNode := func() (*models.JodisNode, error) {
				data, err := client.Read(m.JodisPath, true)
				if err != nil {
					return nil, err
				}
				node := &models.JodisNode{}
				if err := json.Unmarshal(data, node); err != nil {
					return nil, fmt.Errorf("decode %s: %w", m.JodisPath, err)
				}
				return node, nil
			}
			var node *models.JodisNode
			checkFor(t, 20*time.Second, func() (err error) { node, err = readNode(); return err })
			if node.Addr != m.ProxyAddr || node.Admin != m.AdminAddr || node.State != "online" || node.Token != m.Token || node.Start != m.StartTime {
				t.Fatalf("node %+v, model %+v", node, m)
			}

			// An operator (or a session hiccup) removes the node: the
			// proxy notices through its watch and registers again.
			if err := client.Delete(m.JodisPath); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 20*time.Second, func() (err error) { node, err = readNode(); return err })
			if node.Token != m.Token || node.State != "online" {
				t.Fatalf("re-registered node %+v", node)
			}

			p.Close()
			data, err := client.Read(m.JodisPath, false)
			if err != nil || data != nil {
				t.Fatalf("node after close: %q %v", data, err)
			}
		})
	}
}
