// streaming-client drives a CRI streaming URL with client-go's own executors and port forwarder:
// the code kubectl exec/attach/port-forward and crictl run. test/cri/streaming.test.ts builds it
// once and points it at tsrun's streaming server.
//
//	streaming-client exec [-transport spdy|websocket] [-protocols p1,p2] [-stdin] [-stdout] [-stderr] [-tty] [-resize 80x24,100x30] URL
//	    stdin/stdout/stderr are this process's; exits with the remote exit code, 125 on any other error.
//	streaming-client portforward [-transport spdy|websocket] [-parallel] URL REMOTE_PORT MESSAGE...
//	    for each MESSAGE: connect to the forwarded local port, send it, half-close, print "reply: <answer>".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "streaming-client: "+format+"\n", args...)
	os.Exit(125)
}

func config() *restclient.Config {
	// Never proxy: the server is on loopback and the test controls the environment.
	return &restclient.Config{Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }}
}

// sizeQueue hands out the sizes given with -resize, then ends the resize stream.
type sizeQueue struct {
	sizes []remotecommand.TerminalSize
	next  int
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	if q.next >= len(q.sizes) {
		return nil
	}
	s := q.sizes[q.next]
	q.next++
	return &s
}

func parseSizes(spec string) []remotecommand.TerminalSize {
	var sizes []remotecommand.TerminalSize
	for _, part := range strings.Split(spec, ",") {
		if part == "" {
			continue
		}
		w, h, ok := strings.Cut(part, "x")
		width, err1 := strconv.ParseUint(w, 10, 16)
		height, err2 := strconv.ParseUint(h, 10, 16)
		if !ok || err1 != nil || err2 != nil {
			fail("bad -resize size %q (want WIDTHxHEIGHT)", part)
		}
		sizes = append(sizes, remotecommand.TerminalSize{Width: uint16(width), Height: uint16(height)})
	}
	return sizes
}

func execCommand(args []string) {
	fs := flag.NewFlagSet("exec", flag.ExitOnError)
	transport := fs.String("transport", "spdy", "spdy or websocket")
	protocols := fs.String("protocols", "", "comma-separated protocol versions to offer instead of client-go's defaults")
	stdin := fs.Bool("stdin", false, "send this process's stdin")
	stdout := fs.Bool("stdout", false, "receive stdout")
	stderr := fs.Bool("stderr", false, "receive stderr")
	tty := fs.Bool("tty", false, "allocate a terminal")
	resize := fs.String("resize", "", "terminal sizes to send, WIDTHxHEIGHT,...")
	fs.Parse(args)
	if fs.NArg() != 1 {
		fail("exec needs exactly one URL")
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil {
		fail("bad URL: %v", err)
	}

	var executor remotecommand.Executor
	var offered []string
	if *protocols != "" {
		offered = strings.Split(*protocols, ",")
	}
	switch *transport {
	case "spdy":
		if offered == nil {
			executor, err = remotecommand.NewSPDYExecutor(config(), "POST", u)
		} else {
			var rt http.RoundTripper
			var upgrader spdy.Upgrader
			rt, upgrader, err = spdy.RoundTripperFor(config())
			if err == nil {
				executor, err = remotecommand.NewSPDYExecutorForProtocols(rt, upgrader, "POST", u, offered...)
			}
		}
	case "websocket":
		if offered == nil {
			executor, err = remotecommand.NewWebSocketExecutor(config(), "GET", u.String())
		} else {
			executor, err = remotecommand.NewWebSocketExecutorForProtocols(config(), "GET", u.String(), offered...)
		}
	default:
		fail("unknown -transport %q", *transport)
	}
	if err != nil {
		fail("creating executor: %v", err)
	}

	opts := remotecommand.StreamOptions{Tty: *tty}
	if *stdin {
		opts.Stdin = os.Stdin
	}
	if *stdout {
		opts.Stdout = os.Stdout
	}
	if *stderr {
		opts.Stderr = os.Stderr
	}
	if *resize != "" {
		opts.TerminalSizeQueue = &sizeQueue{sizes: parseSizes(*resize)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err = executor.StreamWithContext(ctx, opts)
	var exitErr exec.CodeExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exitErr):
		os.Exit(exitErr.Code)
	default:
		fail("%v", err)
	}
}

func portForwardCommand(args []string) {
	fs := flag.NewFlagSet("portforward", flag.ExitOnError)
	transport := fs.String("transport", "spdy", "spdy or websocket (SPDY tunnelled in WebSocket, as kubectl tries first)")
	parallel := fs.Bool("parallel", false, "send all messages at once over separate connections")
	fs.Parse(args)
	if fs.NArg() < 2 {
		fail("portforward needs a URL and a remote port")
	}
	u, err := url.Parse(fs.Arg(0))
	if err != nil {
		fail("bad URL: %v", err)
	}
	remotePort := fs.Arg(1)
	messages := fs.Args()[2:]

	rt, upgrader, err := spdy.RoundTripperFor(config())
	if err != nil {
		fail("creating round tripper: %v", err)
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, "POST", u)
	if *transport == "websocket" {
		dialer, err = portforward.NewSPDYOverWebsocketDialer(u, config())
		if err != nil {
			fail("creating websocket dialer: %v", err)
		}
	} else if *transport != "spdy" {
		fail("unknown -transport %q", *transport)
	}

	stop := make(chan struct{})
	ready := make(chan struct{})
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + remotePort}, stop, ready, io.Discard, os.Stderr)
	if err != nil {
		fail("creating port forwarder: %v", err)
	}
	forwardErr := make(chan error, 1)
	go func() { forwardErr <- pf.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-forwardErr:
		fail("port forwarding failed to start: %v", err)
	case <-time.After(30 * time.Second):
		fail("port forwarding not ready after 30s")
	}
	ports, err := pf.GetPorts()
	if err != nil || len(ports) != 1 {
		fail("forwarded ports: %v %v", ports, err)
	}
	local := fmt.Sprintf("127.0.0.1:%d", ports[0].Local)

	replies := make([]string, len(messages))
	roundTrip := func(i int) {
		conn, err := net.DialTimeout("tcp", local, 10*time.Second)
		if err != nil {
			replies[i] = "dial error: " + err.Error()
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := conn.Write([]byte(messages[i])); err != nil {
			replies[i] = "write error: " + err.Error()
			return
		}
		conn.(*net.TCPConn).CloseWrite()
		answer, err := io.ReadAll(conn)
		if err != nil {
			replies[i] = "read error: " + err.Error()
			return
		}
		replies[i] = string(answer)
	}
	if *parallel {
		var wg sync.WaitGroup
		for i := range messages {
			wg.Add(1)
			go func() { defer wg.Done(); roundTrip(i) }()
		}
		wg.Wait()
	} else {
		for i := range messages {
			roundTrip(i)
		}
	}
	for _, r := range replies {
		fmt.Printf("reply: %s\n", r)
	}
	close(stop)
	select {
	case err := <-forwardErr:
		if err != nil {
			fail("port forwarding: %v", err)
		}
	case <-time.After(10 * time.Second):
		fail("port forwarding did not stop")
	}
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: streaming-client exec|portforward ...")
	}
	switch os.Args[1] {
	case "exec":
		execCommand(os.Args[2:])
	case "portforward":
		portForwardCommand(os.Args[2:])
	default:
		fail("unknown command %q", os.Args[1])
	}
}
