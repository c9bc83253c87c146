package topom

import (
	"compress/gzip"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codisgo/codis/pkg/models"
)

// apiRequest is what a handler sees: the request and its path parameters.
type apiRequest struct {
	r      *http.Request
	params map[string]string
}

// apiFunc handles one route; it returns the reply value or an error and
// never touches the ResponseWriter.
type apiFunc func(req *apiRequest) (any, error)

// okReply is the plain acknowledgement, encoded as the JSON string "OK".
const okReply = "OK"

// route is one entry of the route table; pattern segments starting with
// ':' are parameters.
type route struct {
	method string
	segs   []string
	xauth  bool // check the :xauth parameter before calling h
	h      apiFunc
}

// router matches the exact route table of SPEC-control §4.3. Unknown
// paths and wrong methods get 404 text/plain, as the original.
type router struct {
	routes []route
}

func (rt *router) add(method, pattern string, h apiFunc) {
	segs := strings.Split(strings.Trim(pattern, "/"), "/")
	xauth := false
	for _, s := range segs {
		if s == ":xauth" {
			xauth = true
		}
	}
	rt.routes = append(rt.routes, route{method: method, segs: segs, xauth: xauth, h: h})
}

func (rt *router) match(method string, segs []string) (*route, map[string]string) {
	for i := range rt.routes {
		r := &rt.routes[i]
		if r.method != method || len(r.segs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for j, p := range r.segs {
			if strings.HasPrefix(p, ":") {
				if segs[j] == "" {
					ok = false
					break
				}
				params[p[1:]] = segs[j]
			} else if p != segs[j] {
				ok = false
				break
			}
		}
		if ok {
			return r, params
		}
	}
	return nil, nil
}

// newHandler builds the dashboard's HTTP handler.
func (s *Topom) newHandler() http.Handler {
	rt := &router{}
	get, put := http.MethodGet, http.MethodPut
	rt.add(get, "/topom", func(*apiRequest) (any, error) { return s.Overview() })
	rt.add(get, "/topom/model", func(*apiRequest) (any, error) { return s.model, nil })
	rt.add(get, "/topom/stats", func(*apiRequest) (any, error) { return s.Stats() })
	rt.add(get, "/topom/slots", func(*apiRequest) (any, error) { return s.Slots() })

	const api = "/api/topom"
	rt.add(get, api+"/model", func(*apiRequest) (any, error) { return s.model, nil })
	rt.add(get, api+"/xping/:xauth", func(*apiRequest) (any, error) { return okReply, nil })
	rt.add(get, api+"/stats/:xauth", func(*apiRequest) (any, error) { return s.Stats() })
	rt.add(get, api+"/slots/:xauth", func(*apiRequest) (any, error) { return s.Slots() })
	rt.add(put, api+"/reload/:xauth", ack(func(*apiRequest) error { return s.Reload() }))
	rt.add(put, api+"/shutdown/:xauth", ack(func(*apiRequest) error { s.requestShutdown(); return nil }))
	rt.add(put, api+"/loglevel/:xauth/:value", ack(func(r *apiRequest) error {
		if s.opts.SetLogLevel == nil {
			return errorf(ErrRefused, "loglevel is not adjustable")
		}
		if err := s.opts.SetLogLevel(r.params["value"]); err != nil {
			return errorf(ErrInvalidArgument, "invalid loglevel")
		}
		return nil
	}))

	rt.add(put, api+"/proxy/create/:xauth/:addr", ack(func(r *apiRequest) error { return s.CreateProxy(r.params["addr"]) }))
	rt.add(put, api+"/proxy/online/:xauth/:addr", ack(func(r *apiRequest) error { return s.OnlineProxy(r.params["addr"]) }))
	rt.add(put, api+"/proxy/reinit/:xauth/:token", ack(func(r *apiRequest) error { return s.ReinitProxy(r.params["token"]) }))
	rt.add(put, api+"/proxy/remove/:xauth/:token/:force", ack(func(r *apiRequest) error {
		force, err := r.boolParam("force")
		if err != nil {
			return err
		}
		return s.RemoveProxy(r.params["token"], force)
	}))

	rt.add(put, api+"/group/create/:xauth/:gid", ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.CreateGroup(gid)
	}))
	rt.add(put, api+"/group/remove/:xauth/:gid", ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.RemoveGroup(gid)
	}))
	rt.add(put, api+"/group/resync/:xauth/:gid", ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.ResyncGroup(gid)
	}))
	rt.add(put, api+"/group/resync-all/:xauth", ack(func(*apiRequest) error { return s.ResyncGroupAll() }))
	addServer := ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.GroupAddServer(gid, r.params["datacenter"], r.params["addr"])
	})
	rt.add(put, api+"/group/add/:xauth/:gid/:addr", addServer)
	rt.add(put, api+"/group/add/:xauth/:gid/:addr/:datacenter", addServer)
	rt.add(put, api+"/group/del/:xauth/:gid/:addr", ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.GroupDelServer(gid, r.params["addr"])
	}))
	rt.add(put, api+"/group/promote/:xauth/:gid/:addr", ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.GroupPromoteServer(gid, r.params["addr"])
	}))
	rt.add(put, api+"/group/replica-groups/:xauth/:gid/:addr/:value", ack(func(r *apiRequest) error {
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		v, err := r.boolParam("value")
		if err != nil {
			return err
		}
		return s.EnableReplicaGroups(gid, r.params["addr"], v)
	}))
	rt.add(put, api+"/group/replica-groups-all/:xauth/:value", ack(func(r *apiRequest) error {
		v, err := r.boolParam("value")
		if err != nil {
			return err
		}
		return s.EnableReplicaGroupsAll(v)
	}))
	rt.add(put, api+"/group/action/create/:xauth/:addr", ack(func(r *apiRequest) error { return s.CreateSyncAction(r.params["addr"]) }))
	rt.add(put, api+"/group/action/remove/:xauth/:addr", ack(func(r *apiRequest) error { return s.RemoveSyncAction(r.params["addr"]) }))
	rt.add(get, api+"/group/info/:addr", func(r *apiRequest) (any, error) { return s.ServerInfo(r.params["addr"]) })

	rt.add(put, api+"/slots/action/create/:xauth/:sid/:gid", ack(func(r *apiRequest) error {
		sid, err := r.intParam("sid")
		if err != nil {
			return err
		}
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.SlotCreateAction(sid, gid)
	}))
	rt.add(put, api+"/slots/action/create-some/:xauth/:src/:dst/:num", ack(func(r *apiRequest) error {
		src, err := r.intParam("src")
		if err != nil {
			return err
		}
		dst, err := r.intParam("dst")
		if err != nil {
			return err
		}
		num, err := r.intParam("num")
		if err != nil {
			return err
		}
		return s.SlotCreateActionSome(src, dst, num)
	}))
	rt.add(put, api+"/slots/action/create-range/:xauth/:beg/:end/:gid", ack(func(r *apiRequest) error {
		beg, err := r.intParam("beg")
		if err != nil {
			return err
		}
		end, err := r.intParam("end")
		if err != nil {
			return err
		}
		gid, err := r.intParam("gid")
		if err != nil {
			return err
		}
		return s.SlotCreateActionRange(beg, end, gid)
	}))
	rt.add(put, api+"/slots/action/remove/:xauth/:sid", ack(func(r *apiRequest) error {
		sid, err := r.intParam("sid")
		if err != nil {
			return err
		}
		return s.SlotRemoveAction(sid)
	}))
	rt.add(put, api+"/slots/action/interval/:xauth/:value", ack(func(r *apiRequest) error {
		v, err := r.intParam("value")
		if err != nil {
			return err
		}
		return s.SetSlotActionInterval(v)
	}))
	rt.add(put, api+"/slots/action/disabled/:xauth/:value", ack(func(r *apiRequest) error {
		v, err := r.boolParam("value")
		if err != nil {
			return err
		}
		return s.SetSlotActionDisabled(v)
	}))
	rt.add(put, api+"/slots/assign/:xauth", ack(func(r *apiRequest) error {
		return s.SlotsAssignGroup(r.slotMappings())
	}))
	rt.add(put, api+"/slots/assign/:xauth/offline", ack(func(r *apiRequest) error {
		return s.SlotsAssignOffline(r.slotMappings())
	}))
	rt.add(put, api+"/slots/rebalance/:xauth/:confirm", func(r *apiRequest) (any, error) {
		confirm, err := r.boolParam("confirm")
		if err != nil {
			return nil, err
		}
		plan, err := s.SlotsRebalance(confirm)
		if err != nil {
			return nil, err
		}
		out := make(map[string]int, len(plan))
		for sid, gid := range plan {
			out[itoa(sid)] = gid
		}
		return out, nil
	})

	rt.add(put, api+"/sentinels/add/:xauth/:addr", ack(func(r *apiRequest) error { return s.AddSentinel(r.params["addr"]) }))
	rt.add(put, api+"/sentinels/del/:xauth/:addr/:force", ack(func(r *apiRequest) error {
		force, err := r.boolParam("force")
		if err != nil {
			return err
		}
		return s.DelSentinel(r.params["addr"], force)
	}))
	rt.add(put, api+"/sentinels/resync-all/:xauth", ack(func(*apiRequest) error { return s.ResyncSentinels() }))
	rt.add(get, api+"/sentinels/info/:addr", func(r *apiRequest) (any, error) { return s.SentinelInfo(r.params["addr"]) })
	rt.add(get, api+"/sentinels/info/:addr/monitored", func(r *apiRequest) (any, error) {
		return s.SentinelMonitored(r.params["addr"])
	})

	metrics := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && r.Method == http.MethodGet {
			metrics.ServeHTTP(w, r)
			return
		}
		s.serveAPI(rt, w, r)
	})
}

// ack adapts an operation returning only an error to an apiFunc replying
// "OK".
func ack(f func(*apiRequest) error) apiFunc {
	return func(r *apiRequest) (any, error) {
		if err := f(r); err != nil {
			return nil, err
		}
		return okReply, nil
	}
}

// serveAPI is the one wrapper: routing, logging, the xauth gate, calling
// the handler and writing the JSON reply or the RemoteError.
func (s *Topom) serveAPI(rt *router, w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		http.Redirect(w, r, "/topom", http.StatusFound)
		return
	}
	raw := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, seg := range raw {
		v, err := url.PathUnescape(seg)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		segs[i] = v
	}
	rte, params := rt.match(r.Method, segs)
	if rte == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/") {
		real := r.Header.Get("X-Real-IP")
		if real == "" {
			real = r.Header.Get("X-Forwarded-For")
		}
		// The xauth is a credential: keep it out of the log.
		logged := append([]string(nil), segs...)
		for i, p := range rte.segs {
			if p == ":xauth" {
				logged[i] = "<xauth>"
			}
		}
		s.log.Info("API call", "path", "/"+strings.Join(logged, "/"), "remote", r.RemoteAddr, "real", real)
	}
	req := &apiRequest{r: r, params: params}
	var v any
	var err error
	if rte.xauth {
		err = s.checkXAuth(params["xauth"])
	}
	if err == nil {
		v, err = rte.h(req)
	}
	if err != nil {
		writeJSON(w, r, statusRemoteError, &RemoteError{Cause: err.Error()})
		return
	}
	writeJSON(w, r, http.StatusOK, v)
}

func (s *Topom) checkXAuth(xauth string) error {
	switch {
	case s.closed.Load():
		return ErrClosed
	case xauth == "":
		return ErrMissingXAuth
	case subtle.ConstantTimeCompare([]byte(xauth), []byte(s.xauth)) != 1:
		return ErrInvalidXAuth
	}
	return nil
}

// writeJSON writes v as 4-space indented JSON, gzip-compressed when the
// client accepts it.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := models.Marshal(v)
	if err != nil {
		status = statusRemoteError
		b = models.Encode(&RemoteError{Cause: err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		w.WriteHeader(status)
		zw := gzip.NewWriter(w)
		zw.Write(b)
		zw.Close()
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, enc := range strings.Split(v, ",") {
			enc, _, _ = strings.Cut(strings.TrimSpace(enc), ";")
			if strings.EqualFold(enc, "gzip") {
				return true
			}
		}
	}
	return false
}

// intParam parses an integer path parameter: "missing {name}" or
// "invalid {name}".
func (r *apiRequest) intParam(name string) (int, error) {
	v, ok := r.params[name]
	if !ok || v == "" {
		return 0, errorf(ErrInvalidArgument, "missing %s", name)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errorf(ErrInvalidArgument, "invalid %s", name)
	}
	return n, nil
}

// boolParam is intParam with non-zero meaning true.
func (r *apiRequest) boolParam(name string) (bool, error) {
	n, err := r.intParam(name)
	return n != 0, err
}

// slotMappings decodes the body of slots/assign. As in the original, an
// undecodable body is an empty list (§4.1).
func (r *apiRequest) slotMappings() []*models.SlotMapping {
	data, err := io.ReadAll(io.LimitReader(r.r.Body, 16<<20))
	if err != nil {
		return nil
	}
	var ms []*models.SlotMapping
	if err := json.Unmarshal(data, &ms); err != nil {
		return nil
	}
	out := ms[:0]
	for _, m := range ms {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
