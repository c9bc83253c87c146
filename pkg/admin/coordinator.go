package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/codisgo/codis/pkg/models"
)

// DefaultCoordinatorTimeout is the coordinator client timeout of the
// coordinator modes (SPEC-control §6.4).
const DefaultCoordinatorTimeout = time.Minute

// maxConfigFile bounds --config-convert and --config-restore input.
const maxConfigFile = 64 << 20

// ErrInvalidConfigFile is wrapped when a config file cannot be read or
// decoded.
var ErrInvalidConfigFile = errors.New("invalid config file")

// RunCoordinator runs one of the modes that work on the coordinator (or,
// for --config-convert, on a file only): --remove-lock, --dashboard-list,
// --config-dump [-1], --config-convert and --config-restore.
func RunCoordinator(ctx context.Context, env *Env, o Options) error {
	out := env.Out
	if out == nil {
		out = io.Discard
	}
	if file, ok := o.String("--config-convert"); ok {
		return configConvert(out, file)
	}
	var restore *models.ConfigV3
	if file, ok := o.String("--config-restore"); ok {
		c, err := loadConfigV3(file)
		if err != nil {
			return err
		}
		if err := c.Validate(); err != nil {
			return &StepError{Step: "validate config " + file + " failed", Err: err}
		}
		if !o.Bool("--confirm") {
			// Preview: print what would be restored; write nothing.
			return writeJSON(out, c)
		}
		restore = c
	}

	needProduct := !o.Bool("--dashboard-list")
	var product string
	if needProduct {
		var err error
		if product, err = o.MustString("--product"); err != nil {
			return err
		}
		if err := models.ValidateProductName(product); err != nil {
			return fmt.Errorf("%w: --product: %w", ErrUsage, err)
		}
	}
	if !o.Bool("--remove-lock") && !o.Bool("--dashboard-list") && !o.Bool("--config-dump") && restore == nil {
		return fmt.Errorf("%w: no command given", ErrUsage)
	}

	client, err := newCoordinator(env, o)
	if err != nil {
		return err
	}
	defer client.Close()
	lg := env.logger()

	switch {
	case o.Bool("--remove-lock"):
		p := models.LockPath(product)
		lg.Debug("remove lock", "path", p)
		if err := client.Delete(p); err != nil {
			return &StepError{Step: "remove lock of product " + product + " failed", Err: err}
		}
		lg.Debug("remove lock OK", "path", p)
		return nil
	case o.Bool("--dashboard-list"):
		list, err := models.ListDashboards(client)
		if err != nil {
			return &StepError{Step: "list dashboards failed", Err: err}
		}
		return writeJSON(out, list)
	case o.Bool("--config-dump"):
		if o.Bool("-1") {
			v1, err := models.DumpV1(client, product)
			if err != nil {
				return &StepError{Step: "dump v1 config of product " + product + " failed", Err: err}
			}
			return writeJSON(out, v1)
		}
		store, err := models.NewStore(client, product)
		if err != nil {
			return err
		}
		c, err := store.DumpConfig()
		if err != nil {
			return &StepError{Step: "dump config of product " + product + " failed", Err: err}
		}
		return writeJSON(out, c)
	default: // --config-restore --confirm
		store, err := models.NewStore(client, product)
		if err != nil {
			return err
		}
		if err := store.RestoreConfig(restore); err != nil {
			return &StepError{Step: "restore config of product " + product + " failed", Err: err}
		}
		lg.Debug("restore config OK", "product", product)
		return nil
	}
}

// newCoordinator builds the client named by exactly one of --zookeeper,
// --etcd and --filesystem.
func newCoordinator(env *Env, o Options) (models.Client, error) {
	type choice struct{ name, flag, authFlag string }
	var picked []choice
	for _, c := range []choice{
		{"zookeeper", "--zookeeper", "--zookeeper-auth"},
		{"etcd", "--etcd", "--etcd-auth"},
		{"filesystem", "--filesystem", ""},
	} {
		if _, ok := o.String(c.flag); ok {
			picked = append(picked, c)
		}
	}
	if len(picked) != 1 {
		return nil, fmt.Errorf("%w: need exactly one of --zookeeper, --etcd and --filesystem", ErrUsage)
	}
	c := picked[0]
	addr, err := o.MustString(c.flag)
	if err != nil {
		return nil, err
	}
	var auth string
	if c.authFlag != "" {
		auth, _ = o.String(c.authFlag)
	}
	timeout := env.CoordinatorTimeout
	if timeout <= 0 {
		timeout = DefaultCoordinatorTimeout
	}
	client, err := models.NewClient(c.name, addr, auth, timeout)
	if err != nil {
		return nil, &StepError{Step: "create " + c.name + " client failed", Err: err}
	}
	return client, nil
}

func readConfigFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfigFile, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalidConfigFile, file, err)
	}
	if len(b) > maxConfigFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidConfigFile, file, maxConfigFile)
	}
	return b, nil
}

func loadConfigV3(file string) (*models.ConfigV3, error) {
	b, err := readConfigFile(file)
	if err != nil {
		return nil, err
	}
	if isNullRaw(b) {
		return nil, fmt.Errorf("%w: %s is empty or null", ErrInvalidConfigFile, file)
	}
	c := &models.ConfigV3{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrInvalidConfigFile, file, err)
	}
	return c, nil
}

func configConvert(out io.Writer, file string) error {
	b, err := readConfigFile(file)
	if err != nil {
		return err
	}
	c, err := models.ConvertV1(b)
	if err != nil {
		return &StepError{Step: "convert config " + file + " failed", Err: err}
	}
	return writeJSON(out, c)
}
