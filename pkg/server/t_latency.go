package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The latency monitor (LATENCY): with latency-monitor-threshold set, the
// events that take at least that many milliseconds ("command" and
// "fast-command" for commands, by their fast flag) are recorded per
// event: a ring of the latest samples, one per second (the highest), and
// the all-time maximum, as Redis keeps them.

func init() {
	register(&Command{Name: "latency", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Proc: latencyCommand,
		Subs: map[string]int{"doctor": 2, "graph": 3, "history": 3, "latest": 2, "reset": -2, "histogram": -2, "help": 2}})
}

// latencyHistoryLen is Redis's LATENCY_TS_LEN.
const latencyHistoryLen = 160

type latencySample struct {
	time    int64 // unix seconds
	latency int64 // ms
}

type latencySeries struct {
	samples []latencySample // oldest first, at most latencyHistoryLen
	max     int64
}

// latencyThreshold returns latency-monitor-threshold in ms (mu held).
func (s *Server) latencyThreshold() int64 { return s.intro.latency0 }

// applyLatencyConfig caches latency-monitor-threshold (applyConfig): it is
// read after every command.
func (s *Server) applyLatencyConfig() {
	s.intro.latency0, _ = strconv.ParseInt(s.cfg.extra["latency-monitor-threshold"], 10, 64)
}

// latencyAddIfNeeded records an event that took d, if the monitor is on
// and d reaches the threshold (mu held). Other parts of the server (expire
// and eviction cycles) may call it.
func (s *Server) latencyAddIfNeeded(event string, d time.Duration) {
	if th := s.latencyThreshold(); th > 0 && d.Milliseconds() >= th {
		s.latencyAdd(event, d.Milliseconds())
	}
}

// latencyAdd records a sample of event (mu held).
func (s *Server) latencyAdd(event string, ms int64) {
	if s.intro.latency == nil {
		s.intro.latency = map[string]*latencySeries{}
	}
	ls := s.intro.latency[event]
	if ls == nil {
		ls = &latencySeries{}
		s.intro.latency[event] = ls
	}
	now := time.Now().Unix()
	ls.max = max(ls.max, ms)
	if n := len(ls.samples); n > 0 && ls.samples[n-1].time == now {
		ls.samples[n-1].latency = max(ls.samples[n-1].latency, ms)
		return
	}
	if len(ls.samples) == latencyHistoryLen {
		copy(ls.samples, ls.samples[1:])
		ls.samples = ls.samples[:latencyHistoryLen-1]
	}
	ls.samples = append(ls.samples, latencySample{now, ms})
}

var latencyHelp = []string{
	"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
	"HELP",
	"    Prints this help.",
}

func latencyCommand(c *client, argv [][]byte) {
	s := c.s
	sub := strings.ToLower(string(argv[1]))
	lat := s.intro.latency
	switch {
	case sub == "latest" && len(argv) == 2:
		names := sortedKeys(lat)
		c.addArrayLen(len(names))
		for _, name := range names {
			ls := lat[name]
			last := ls.samples[len(ls.samples)-1]
			c.addArrayLen(4)
			c.addBulkString(name)
			c.addInt(last.time)
			c.addInt(last.latency)
			c.addInt(ls.max)
		}
	case sub == "history" && len(argv) == 3:
		ls := lat[string(argv[2])]
		if ls == nil {
			c.addArrayLen(0)
			return
		}
		c.addArrayLen(len(ls.samples))
		for _, sm := range ls.samples {
			c.addArrayLen(2)
			c.addInt(sm.time)
			c.addInt(sm.latency)
		}
	case sub == "reset":
		n := 0
		if len(argv) == 2 {
			n = len(lat)
			s.intro.latency = nil
		} else {
			for _, ev := range argv[2:] {
				if _, ok := lat[string(ev)]; ok {
					delete(lat, string(ev))
					n++
				}
			}
		}
		c.addInt(int64(n))
	case sub == "graph" && len(argv) == 3:
		ls := lat[string(argv[2])]
		if ls == nil {
			c.addError(fmt.Sprintf("ERR No samples available for event '%s'", argv[2]))
			return
		}
		c.addBulkString(latencyGraph(string(argv[2]), ls))
	case sub == "doctor" && len(argv) == 2:
		c.addBulkString(s.latencyDoctor())
	case sub == "histogram":
		c.latencyHistogram(argv[2:])
	case sub == "help" && len(argv) == 2:
		c.addHelp(latencyHelp)
	default:
		unknownSubcommand(c, argv)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// latencyGraph draws the samples as columns of '#', highest first.
func latencyGraph(event string, ls *latencySeries) string {
	var sb strings.Builder
	last := ls.samples[len(ls.samples)-1]
	fmt.Fprintf(&sb, "%s - high %d ms, low %d ms (all time high %d ms)\n", event,
		slices.MaxFunc(ls.samples, func(a, b latencySample) int { return int(a.latency - b.latency) }).latency,
		slices.MinFunc(ls.samples, func(a, b latencySample) int { return int(a.latency - b.latency) }).latency, ls.max)
	sb.WriteString(strings.Repeat("-", 80) + "\n")
	const rows = 4
	for r := rows; r >= 1; r-- {
		for _, sm := range ls.samples {
			if sm.latency*rows >= int64(r)*ls.max {
				sb.WriteByte('#')
			} else {
				sb.WriteByte(' ')
			}
		}
		sb.WriteByte('\n')
	}
	for _, sm := range ls.samples {
		age := last.time - sm.time
		switch {
		case age < 60:
			sb.WriteByte('s')
		case age < 3600:
			sb.WriteByte('m')
		default:
			sb.WriteByte('h')
		}
	}
	sb.WriteByte('\n')
	return sb.String()
}

// latencyDoctor is LATENCY DOCTOR's report (in Redis's voice).
func (s *Server) latencyDoctor() string {
	lat := s.intro.latency
	if len(lat) == 0 {
		if s.latencyThreshold() == 0 {
			return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
		}
		return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
	}
	var sb strings.Builder
	sb.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	for i, name := range sortedKeys(lat) {
		ls := lat[name]
		var sum int64
		for _, sm := range ls.samples {
			sum += sm.latency
		}
		fmt.Fprintf(&sb, "%d. %s: %d latency spikes (average %dms, mean deviation 0ms, period %d sec). Worst all time event %dms.\n",
			i+1, name, len(ls.samples), sum/int64(len(ls.samples)), max(1, ls.samples[len(ls.samples)-1].time-ls.samples[0].time), ls.max)
	}
	sb.WriteString("\nI have a few advices for you:\n\n")
	if _, ok := lat["command"]; ok {
		sb.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
	}
	if _, ok := lat["fast-command"]; ok {
		sb.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods.\n")
	}
	return sb.String()
}

// latencyHistogram is LATENCY HISTOGRAM: per command, its calls and a
// cumulative histogram of its durations over power-of-two microsecond
// buckets (RESP2 map as a flat array).
func (c *client) latencyHistogram(names [][]byte) {
	st := c.s.intro.cmdstats
	var list []string
	if len(names) == 0 {
		for _, n := range sortedKeys(st) {
			if st[n].calls > 0 {
				list = append(list, n)
			}
		}
	} else {
		for _, n := range names {
			name := strings.ToLower(string(n))
			if x := st[name]; x != nil && x.calls > 0 && !slices.Contains(list, name) {
				list = append(list, name)
			}
		}
	}
	c.addArrayLen(2 * len(list))
	for _, name := range list {
		x := st[name]
		c.addBulkString(name)
		c.addArrayLen(4)
		c.addBulkString("calls")
		c.addInt(x.calls)
		c.addBulkString("histogram_usec")
		var pairs []int64
		var cum int64
		for b, n := range x.hist {
			if n == 0 {
				continue
			}
			cum += n
			pairs = append(pairs, 1<<b, cum)
		}
		c.addArrayLen(len(pairs))
		for _, v := range pairs {
			c.addInt(v)
		}
	}
}

// histBucket is the power-of-two bucket of a duration in µs: bucket b
// holds durations up to 2^b µs.
func histBucket(usec int64) int {
	b := 0
	for b < 40 && int64(1)<<b < usec {
		b++
	}
	return b
}

// percentile estimates the p-th percentile in µs from the buckets.
func (x *cmdStat) percentile(p float64) float64 {
	var total int64
	for _, n := range x.hist {
		total += n
	}
	if total == 0 {
		return 0
	}
	want := int64(p / 100 * float64(total))
	var cum int64
	for b, n := range x.hist {
		cum += n
		if cum > want || cum == total {
			return float64(int64(1) << b)
		}
	}
	return 0
}
