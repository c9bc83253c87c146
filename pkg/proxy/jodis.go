package proxy

import (
	"sync"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

// Jodis re-registration backoff (SPEC-data §D.14).
const (
	jodisMinBackoff = time.Second
	jodisMaxBackoff = 30 * time.Second
)

// jodis keeps the proxy's ephemeral node registered while the proxy is
// online and removes it on close.
type jodis struct {
	p      *Proxy
	client models.Client
	path   string
	data   []byte
	quit   chan struct{}
	wg     sync.WaitGroup
}

// startJodis registers the node if jodis_addr is set; called once, when
// the proxy goes online. The caller holds p.mu.
func (p *Proxy) startJodisLocked() error {
	c := p.config
	if c.JodisAddr == "" || p.jodis != nil || p.model == nil {
		return nil
	}
	client, err := models.NewClient(c.JodisName, c.JodisAddr, c.JodisAuth, c.JodisTimeout.Duration())
	if err != nil {
		return err
	}
	j := &jodis{
		p:      p,
		client: client,
		path:   p.model.JodisPath,
		data:   models.Encode(models.NewJodisNode(p.model)),
		quit:   make(chan struct{}),
	}
	p.jodis = j
	j.wg.Add(1)
	go j.loop()
	return nil
}

func (j *jodis) loop() {
	defer j.wg.Done()
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			select {
			case <-j.quit:
				return
			case <-time.After(backoff):
			}
		}
		w, err := j.client.CreateEphemeral(j.path, j.data)
		if err != nil {
			j.p.logger.Warn("jodis register failed", "path", j.path, "err", err)
			backoff = min(max(backoff*2, jodisMinBackoff), jodisMaxBackoff)
			continue
		}
		j.p.logger.Info("jodis registered", "path", j.path)
		backoff = 0
		select {
		case <-j.quit:
			return
		case <-w:
			j.p.logger.Warn("jodis node changed or lost, re-registering", "path", j.path)
			backoff = jodisMinBackoff
		}
	}
}

func (j *jodis) close() {
	close(j.quit)
	j.wg.Wait()
	if err := j.client.Delete(j.path); err != nil {
		j.p.logger.Warn("jodis remove failed", "path", j.path, "err", err)
	}
	j.client.Close()
}
