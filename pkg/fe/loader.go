package fe

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/codisgo/codis/pkg/models"
	"github.com/codisgo/codis/pkg/utils/log"
)

// Loader builds the product name → dashboard address map codis-fe routes
// with (SPEC-control §7.2). It is called from the GET /list handler, at
// most once per rebuild interval, never concurrently with itself.
type Loader interface {
	Load() (map[string]string, error)
}

// LoaderFunc adapts a function to Loader.
type LoaderFunc func() (map[string]string, error)

// Load calls f.
func (f LoaderFunc) Load() (map[string]string, error) { return f() }

// ErrInvalidDashboardList is wrapped by ReadDashboardList when the file
// cannot be read or is not a JSON list of {"name", "dashboard"} objects.
var ErrInvalidDashboardList = errors.New("invalid dashboard list")

// maxListFile bounds a --dashboard-list file.
const maxListFile = 16 << 20

// ReadDashboardList reads a --dashboard-list file: the JSON list printed
// by codis-admin --dashboard-list, [{"name": ..., "dashboard": ...}, ...].
// Entries with an empty name or address are dropped; when a name appears
// twice the last entry wins.
func ReadDashboardList(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDashboardList, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxListFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrInvalidDashboardList, file, err)
	}
	if len(data) > maxListFile {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrInvalidDashboardList, file, maxListFile)
	}
	var list []*models.DashboardEntry
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%w: decode %s (want the JSON list printed by codis-admin --dashboard-list): %w",
			ErrInvalidDashboardList, file, err)
	}
	if list == nil {
		return nil, fmt.Errorf("%w: %s holds null, want a JSON list", ErrInvalidDashboardList, file)
	}
	m := make(map[string]string, len(list))
	for _, e := range list {
		if e == nil || e.Name == "" || e.Dashboard == "" {
			continue
		}
		m[e.Name] = e.Dashboard
	}
	return m, nil
}

// StaticLoader re-reads the --dashboard-list file on every Load, so edits
// of the file show up at the next rebuild.
func StaticLoader(file string) Loader {
	return LoaderFunc(func() (map[string]string, error) { return ReadDashboardList(file) })
}

// CoordinatorLoader discovers dashboards in the coordinator: it lists
// /codis3 and reads each product's lock node /codis3/{p}/topom. Products
// without a lock node (no dashboard running) or whose node cannot be read
// or decoded are skipped and logged; only a failure to list /codis3 fails
// the Load. The client is used, not owned: the caller closes it.
func CoordinatorLoader(client models.Client, logger *slog.Logger) Loader {
	if logger == nil {
		logger = log.Discard()
	}
	return LoaderFunc(func() (map[string]string, error) {
		names, err := models.ListProducts(client)
		if err != nil {
			return nil, err
		}
		m := make(map[string]string, len(names))
		for _, name := range names {
			p := models.LockPath(name)
			data, err := client.Read(p, false)
			switch {
			case err != nil:
				logger.Warn("skip product: read dashboard lock failed", "product", name, "path", p, "err", err)
				continue
			case data == nil:
				logger.Info("skip product: no dashboard lock (dashboard not running)", "product", name, "path", p)
				continue
			}
			t := &models.Topom{}
			if err := models.Decode(p, data, t); err != nil {
				logger.Warn("skip product: bad dashboard lock data", "product", name, "err", err)
				continue
			}
			if t.AdminAddr == "" {
				logger.Warn("skip product: dashboard lock has no admin_addr", "product", name, "path", p)
				continue
			}
			m[name] = t.AdminAddr
		}
		return m, nil
	})
}
