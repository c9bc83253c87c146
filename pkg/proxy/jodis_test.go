package proxy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/testenv"
)

// TestJodisEtcd: going online registers the jodis node in etcd; closing
// removes it.
func TestJodisEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	etcd := testenv.StartEtcd(t)
	c := testConfig()
	c.JodisName = "etcd"
	c.JodisAddr = etcd.Addr
	c.JodisTimeout.UnmarshalText([]byte("10s"))
	p := startProxy(t, c)
	m := p.Model()
	if m.JodisPath != models.JodisPath("test", m.Token) {
		t.Fatalf("jodis_path %q", m.JodisPath)
	}
	if err := p.Online(); err != nil {
		t.Fatal(err)
	}
	client, err := models.NewClient("etcd", etcd.Addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var node models.JodisNode
	checkFor(t, 20*time.Second, func() error {
		data, err := client.Read(m.JodisPath, true)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &node)
	})
	if node.Addr != m.ProxyAddr || node.Admin != m.AdminAddr || node.State != "online" || node.Token != m.Token || node.Start != m.StartTime {
		t.Fatalf("node %+v, model %+v", node, m)
	}
	p.Close()
	data, err := client.Read(m.JodisPath, false)
	if err != nil || data != nil {
		t.Fatalf("node after close: %q %v", data, err)
	}
}
