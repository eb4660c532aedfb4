// Command soak holds a spindle server under a steady production-like load
// for minutes and reports whether anything leaked or was lost: N WebSocket
// connections on channels with history, a steady rate of API publications,
// and a steady churn of clients that disconnect and come back recovering
// what they missed. It is `make soak`, not part of CI: the default run takes
// ten minutes.
//
// Every connection is subscribed before the first publication, so each one
// must end up with every publication the API acknowledged on its channel:
// stable clients live, churning clients live or through recovery. The run
// fails (exit 1) on any lost or duplicated publication or failed recovery.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	secret = "soak-secret"
	apiKey = "soak-api-key"
)

type options struct {
	bin         string
	conns       int
	channels    int
	churners    int
	pubRate     int
	churnRate   int
	duration    time.Duration
	sampleEvery time.Duration
	historySize int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/spindle", "spindle binary")
	flag.IntVar(&o.conns, "conns", 10000, "connections in all (stable + churning)")
	flag.IntVar(&o.channels, "channels", 1000, "channels with history; connection i subscribes to channel i mod channels")
	flag.IntVar(&o.churners, "churners", 1000, "connections that disconnect and come back")
	flag.IntVar(&o.pubRate, "pub-rate", 200, "API publications per second, each to a random channel")
	flag.IntVar(&o.churnRate, "churn-rate", 100, "disconnects (and as many reconnects) per second")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs")
	flag.DurationVar(&o.sampleEvery, "sample", 30*time.Second, "how often the server's RSS and goroutines are read")
	flag.IntVar(&o.historySize, "history-size", 100, "history_size of the soak namespace")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// raiseFileLimit lifts the soft open-file limit to the hard one: the soak
// holds 10,000 sockets here and as many in the server, which inherits it.
func raiseFileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	l.Cur = l.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	return l.Cur
}

// subscriber is one identity: a stable connection, or a churning one that
// keeps its record across its reconnects.
type subscriber struct {
	user    string
	channel int
	rec     received
	client  atomic.Pointer[wsClient]
}

type soak struct {
	o       options
	url     string    // the WebSocket endpoint
	api     string    // the HTTP API's publish URL
	start   time.Time // the monotonic clock every latency is measured on
	logs    []channelLog
	subs    []*subscriber
	conns   atomic.Int64
	latMu   sync.Mutex
	lat     []int32 // live delivery latency, µs
	recov   atomic.Int64
	connLat []time.Duration // churn reconnect: dial + connect + subscribe
	failed  struct {
		recovery, reconnect, publish, readEnd atomic.Int64
	}
}

func run(o options) error {
	limit := raiseFileLimit()
	if need := uint64(o.conns + 512); limit < need {
		return fmt.Errorf("open-file limit %d is below the %d sockets this soak holds; lower -conns or raise ulimit -n", limit, need)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	srv, err := startServer(o.bin, serverConfig(port, secret, apiKey, o.historySize))
	if err != nil {
		return err
	}
	defer srv.stop()
	s := &soak{o: o, url: fmt.Sprintf("ws://127.0.0.1:%d/connection/websocket", port), api: srv.base() + "/api/publish", start: time.Now(),
		logs: make([]channelLog, o.channels)}
	var samples []sample
	take := func(phase string) {
		x := srv.take(time.Since(s.start), phase, s.conns.Load())
		samples = append(samples, x)
		fmt.Printf("%6ds %-10s rss %7d KiB  heap %7d KiB  goroutines %6d  cpu %5.1f%%  conns %d\n", x.At, phase, x.RSSKiB, x.HeapKiB, x.Goroutines, x.CPUPercent, x.Conns)
	}
	take("idle")

	// Ramp: every identity connected and subscribed before any publication.
	rampStart := time.Now()
	if err := s.ramp(); err != nil {
		return err
	}
	ramp := time.Since(rampStart)
	fmt.Printf("ramp: %d connections subscribed to %d channels in %.1fs\n", o.conns, o.channels, ramp.Seconds())
	time.Sleep(3 * time.Second)
	take("loaded")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.publish(stop) }()
	go func() { defer wg.Done(); s.churn(stop) }()
	ticker := time.NewTicker(o.sampleEvery)
	end := time.After(o.duration)
loop:
	for {
		select {
		case <-ticker.C:
			take("load")
		case <-end:
			break loop
		}
	}
	ticker.Stop()
	close(stop)
	wg.Wait()
	// Churners that were offline at the stop reconnect and recover; then
	// everything in flight gets time to arrive.
	s.reconnectOffline()
	time.Sleep(5 * time.Second)
	take("end")

	for _, sub := range s.subs {
		if c := sub.client.Swap(nil); c != nil {
			c.close()
		}
	}
	time.Sleep(5 * time.Second)
	take("closed")
	return s.report(samples, ramp)
}

func (s *soak) token(user string) string {
	t, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": user, "exp": time.Now().Add(24 * time.Hour).Unix()}).SignedString([]byte(secret))
	return t
}

func channelName(i int) string { return fmt.Sprintf("soak:c%d", i) }

// ramp opens every connection, 50 at a time.
func (s *soak) ramp() error {
	s.subs = make([]*subscriber, s.o.conns)
	for i := range s.subs {
		s.subs[i] = &subscriber{user: fmt.Sprintf("u%d", i), channel: i % s.o.channels}
	}
	sem := make(chan struct{}, 50)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for _, sub := range s.subs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.connect(sub); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("ramp: %w", err)
	default:
		return nil
	}
}

// connect dials, subscribes (recovering when the identity has a position)
// and starts the read loop.
func (s *soak) connect(sub *subscriber) error {
	c, err := dial(s.url, s.token(sub.user))
	if err != nil {
		return err
	}
	epoch, offset := sub.rec.position()
	reply, err := c.subscribe(channelName(sub.channel), epoch, offset)
	if err != nil {
		c.close()
		return err
	}
	if epoch != "" {
		if !reply.Recovered {
			s.failed.recovery.Add(1)
		}
		for _, p := range reply.Publications {
			if sub.rec.add(p.Data.Seq, p.Offset) {
				s.recov.Add(1)
			}
		}
	}
	sub.rec.setEpoch(reply.Epoch, reply.Offset)
	sub.client.Store(c)
	s.conns.Add(1)
	go func() {
		err := c.readLoop(func(p publication) {
			if sub.rec.add(p.Data.Seq, p.Offset) {
				us := int32(time.Since(s.start.Add(time.Duration(p.Data.Sent))) / time.Microsecond)
				s.latMu.Lock()
				s.lat = append(s.lat, us)
				s.latMu.Unlock()
			}
		})
		s.conns.Add(-1)
		// A connection ends only because this harness closed it; anything
		// else (a server close, a read error) is a failure of the soak.
		if sub.client.Load() == c {
			s.failed.readEnd.Add(1)
			fmt.Fprintf(os.Stderr, "connection of %s ended: %v\n", sub.user, err)
		}
	}()
	return nil
}

// publish sends pubRate API publications per second to random channels
// through a pool of 16 HTTP connections.
func (s *soak) publish(stop <-chan struct{}) {
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range jobs {
				s.publishOne(httpc, ch)
			}
		}()
	}
	interval := time.Second / time.Duration(s.o.pubRate)
	next := time.Now()
	for {
		next = next.Add(interval)
		select {
		case <-stop:
			close(jobs)
			wg.Wait()
			return
		case <-time.After(time.Until(next)):
		}
		jobs <- rand.IntN(s.o.channels)
	}
}

func (s *soak) publishOne(httpc *http.Client, ch int) {
	seq := s.logs[ch].take()
	body, _ := json.Marshal(map[string]any{"channel": channelName(ch), "data": payload{Seq: seq, Sent: int64(time.Since(s.start))}})
	req, _ := http.NewRequest("POST", s.api, bytes.NewReader(body))
	req.Header.Set("X-API-Key", apiKey)
	resp, err := httpc.Do(req)
	if err != nil {
		s.failed.publish.Add(1)
		return
	}
	defer resp.Body.Close()
	var out struct {
		Error  *replyError `json:"error"`
		Result *struct {
			Offset uint64 `json:"offset"`
		} `json:"result"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Error != nil || out.Result == nil {
		s.failed.publish.Add(1)
		return
	}
	s.logs[ch].ack(seq)
}

// churn disconnects churnRate connections per second, each coming back a
// second later with recovery. The churners are the last `churners`
// identities, taken in turn.
func (s *soak) churn(stop <-chan struct{}) {
	if s.o.churners == 0 || s.o.churnRate == 0 {
		<-stop
		return
	}
	pool := s.subs[len(s.subs)-s.o.churners:]
	interval := time.Second / time.Duration(s.o.churnRate)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := time.Now()
	for i := 0; ; i++ {
		next = next.Add(interval)
		select {
		case <-stop:
			wg.Wait()
			return
		case <-time.After(time.Until(next)):
		}
		sub := pool[i%len(pool)]
		c := sub.client.Swap(nil)
		if c == nil {
			continue // still coming back from its last turn
		}
		c.close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Second)
			for attempt := 0; attempt < 5; attempt++ {
				t0 := time.Now()
				err := s.connect(sub)
				if err == nil {
					mu.Lock()
					s.connLat = append(s.connLat, time.Since(t0))
					mu.Unlock()
					return
				}
				s.failed.reconnect.Add(1)
				fmt.Fprintf(os.Stderr, "reconnect %s: %v\n", sub.user, err)
				time.Sleep(time.Second)
			}
		}()
	}
}

// reconnectOffline brings back any identity that is not connected, so that
// its final recovery is part of the count.
func (s *soak) reconnectOffline() {
	for _, sub := range s.subs {
		if sub.client.Load() == nil {
			if err := s.connect(sub); err != nil {
				s.failed.reconnect.Add(1)
				fmt.Fprintf(os.Stderr, "final reconnect %s: %v\n", sub.user, err)
			}
		}
	}
}

// result is the JSON line the soak ends with.
type result struct {
	Date          string   `json:"date"`
	Conns         int      `json:"conns"`
	Channels      int      `json:"channels"`
	PubRate       int      `json:"pub_rate"`
	ChurnRate     int      `json:"churn_rate"`
	DurationS     float64  `json:"duration_s"`
	RampS         float64  `json:"ramp_s"`
	Published     int      `json:"published_acked"`
	PublishFailed int64    `json:"publish_failed"`
	Expected      int64    `json:"deliveries_expected"`
	Lost          int64    `json:"lost"`
	Duplicates    int64    `json:"duplicates"`
	Live          int      `json:"delivered_live"`
	Recovered     int64    `json:"delivered_by_recovery"`
	RecoveryFail  int64    `json:"recovery_failed"`
	Reconnects    int      `json:"reconnects"`
	ReconnectFail int64    `json:"reconnect_failed"`
	ConnLost      int64    `json:"connections_ended_by_server"`
	LatP50ms      float64  `json:"delivery_p50_ms"`
	LatP99ms      float64  `json:"delivery_p99_ms"`
	LatMaxms      float64  `json:"delivery_max_ms"`
	ReconnP99ms   float64  `json:"reconnect_p99_ms"`
	Samples       []sample `json:"samples"`
}

func (s *soak) report(samples []sample, ramp time.Duration) error {
	r := result{Date: time.Now().UTC().Format(time.RFC3339), Conns: s.o.conns, Channels: s.o.channels, PubRate: s.o.pubRate,
		ChurnRate: s.o.churnRate, DurationS: s.o.duration.Seconds(), RampS: ramp.Seconds(), Samples: samples,
		PublishFailed: s.failed.publish.Load(), Recovered: s.recov.Load(), RecoveryFail: s.failed.recovery.Load(),
		ReconnectFail: s.failed.reconnect.Load(), ConnLost: s.failed.readEnd.Load(), Reconnects: len(s.connLat)}
	acked := make([][]bool, len(s.logs))
	for i := range s.logs {
		acked[i] = s.logs[i].snapshot()
		for _, ok := range acked[i] {
			if ok {
				r.Published++
			}
		}
	}
	for _, sub := range s.subs {
		a := acked[sub.channel]
		for _, ok := range a {
			if ok {
				r.Expected++
			}
		}
		r.Lost += int64(sub.rec.missing(a))
		r.Duplicates += int64(sub.rec.duplicates)
	}
	s.latMu.Lock()
	lat := slices.Clone(s.lat)
	s.latMu.Unlock()
	slices.Sort(lat)
	r.Live = len(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1000
	}
	r.LatP50ms, r.LatP99ms, r.LatMaxms = q(0.50), q(0.99), q(1)
	slices.Sort(s.connLat)
	if n := len(s.connLat); n > 0 {
		r.ReconnP99ms = float64(s.connLat[min(n-1, n*99/100)]) / float64(time.Millisecond)
	}
	fmt.Printf("published (acked) %d, failed %d; deliveries expected %d: live %d + recovered %d; lost %d, duplicates %d\n",
		r.Published, r.PublishFailed, r.Expected, r.Live, r.Recovered, r.Lost, r.Duplicates)
	fmt.Printf("reconnects %d (failed %d, recovery failed %d, p99 %.1f ms); connections ended by the server %d\n",
		r.Reconnects, r.ReconnectFail, r.RecoveryFail, r.ReconnP99ms, r.ConnLost)
	fmt.Printf("delivery latency p50 %.2f ms, p99 %.2f ms, max %.1f ms\n", r.LatP50ms, r.LatP99ms, r.LatMaxms)
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
	if r.Lost > 0 || r.Duplicates > 0 || r.RecoveryFail > 0 || r.ConnLost > 0 || r.PublishFailed > 0 {
		return fmt.Errorf("lost %d, duplicates %d, recovery failed %d, connections ended %d, publishes failed %d",
			r.Lost, r.Duplicates, r.RecoveryFail, r.ConnLost, r.PublishFailed)
	}
	return nil
}
