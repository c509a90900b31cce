// Command grpckeepalivepeer is a grpc-go peer for the starter's interop tests.
//
// It speaks the peers' common command line (docs/interop.md) and prints one JSON object per
// line on stdout; diagnostics go to stderr.
//
//	grpckeepalivepeer client <target> <pattern> <duration_ms> [key=value ...]
//	grpckeepalivepeer server <keepalive_time_ms> <min_ping_interval_ms> [key=value ...]
//
// It builds in GOPATH mode against Debian's golang-google-grpc-dev (grpc-go 1.33), without
// the module proxy; messages of TestService are encoded by hand (a raw-bytes codec), so no
// generated code is needed.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

const service = "dev.grpckeepalive.test.TestService"

const (
	echoMethod    = "/" + service + "/Echo"
	streamMethod  = "/" + service + "/Stream"
	chatMethod    = "/" + service + "/Chat"
	missingMethod = "/" + service + "/Missing"
)

// rawCodec passes messages through as bytes. Registered as "proto", it replaces grpc-go's
// protobuf codec for this process: requests and replies are []byte, encoded by hand.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	switch message := v.(type) {
	case []byte:
		return message, nil
	case *[]byte:
		return *message, nil
	}
	return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	message, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	*message = append((*message)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

func init() {
	encoding.RegisterCodec(rawCodec{})
}

func emit(event map[string]interface{}) {
	line, _ := json.Marshal(event)
	os.Stdout.Write(append(line, '\n'))
}

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "grpc-go peer: "+format+"\n", args...)
}

// --- protobuf wire format, just what TestService needs ---------------------------------------

func appendVarint(out []byte, value uint64) []byte {
	for value >= 0x80 {
		out = append(out, byte(value)|0x80)
		value >>= 7
	}
	return append(out, byte(value))
}

func appendVarintField(out []byte, number int, value int64) []byte {
	if value == 0 {
		return out
	}
	return appendVarint(appendVarint(out, uint64(number<<3)), uint64(value))
}

func appendBytesField(out []byte, number int, value []byte) []byte {
	if len(value) == 0 {
		return out
	}
	out = appendVarint(appendVarint(out, uint64(number<<3|2)), uint64(len(value)))
	return append(out, value...)
}

// message is a decoded protobuf message: varint fields and length-delimited fields by number.
type message struct {
	varints map[int]int64
	bytes   map[int][]byte
}

func parse(data []byte) (message, error) {
	m := message{varints: map[int]int64{}, bytes: map[int][]byte{}}
	for i := 0; i < len(data); {
		key, n := readVarint(data[i:])
		if n == 0 {
			return m, fmt.Errorf("truncated message")
		}
		i += n
		number := int(key >> 3)
		switch key & 7 {
		case 0:
			value, n := readVarint(data[i:])
			if n == 0 {
				return m, fmt.Errorf("truncated varint")
			}
			m.varints[number] = int64(value)
			i += n
		case 2:
			length, n := readVarint(data[i:])
			if n == 0 || i+n+int(length) > len(data) {
				return m, fmt.Errorf("truncated field")
			}
			i += n
			m.bytes[number] = data[i : i+int(length)]
			i += int(length)
		case 1:
			i += 8
		case 5:
			i += 4
		default:
			return m, fmt.Errorf("unsupported wire type %d", key&7)
		}
	}
	return m, nil
}

func readVarint(data []byte) (uint64, int) {
	var value uint64
	for i := 0; i < len(data) && i < 10; i++ {
		value |= uint64(data[i]&0x7f) << (7 * uint(i))
		if data[i] < 0x80 {
			return value, i + 1
		}
	}
	return 0, 0
}

func echoRequest(text []byte, delayMillis int64, statusName string, payload []byte) []byte {
	out := appendBytesField(nil, 1, text)
	out = appendVarintField(out, 2, delayMillis)
	out = appendBytesField(out, 3, []byte(statusName))
	return appendBytesField(out, 4, payload)
}

func streamRequest(count int64, intervalMillis int64, holdMillis int64, payloadSize int64) []byte {
	out := appendVarintField(nil, 1, count)
	out = appendVarintField(out, 2, intervalMillis)
	out = appendVarintField(out, 3, holdMillis)
	return appendVarintField(out, 4, payloadSize)
}

// codeNames are the status codes' names as the other peers print them (NOT_FOUND, ...).
var codeNames = []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

func codeName(code codes.Code) string {
	if int(code) < len(codeNames) {
		return codeNames[code]
	}
	return "CODE_" + strconv.Itoa(int(code))
}

// --- client ------------------------------------------------------------------------------------

// result is what a pattern saw: calls that succeeded, statuses it asked for, and failures.
type result struct {
	mu       sync.Mutex
	ok       int
	expected map[string]int
	failed   map[string]int
	failures []string
	messages int
	bytes    int64
	closed   interface{}
}

func (r *result) succeeded(replyBytes int) {
	r.mu.Lock()
	r.ok++
	r.messages++
	r.bytes += int64(replyBytes)
	r.mu.Unlock()
}

func (r *result) received(replyBytes int) {
	r.mu.Lock()
	r.messages++
	r.bytes += int64(replyBytes)
	r.mu.Unlock()
}

// outcome counts a call that did not succeed: expected when its code is one the pattern asked for.
func (r *result) outcome(err error, expected ...codes.Code) {
	code := status.Code(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range expected {
		if code == e {
			r.expected[codeName(code)]++
			return
		}
	}
	r.fail(codeName(code), codeName(code)+": "+status.Convert(err).Message())
}

// fail counts a failure; the caller holds r.mu.
func (r *result) fail(code string, detail string) {
	r.failed[code]++
	if len(r.failures) < 5 {
		r.failures = append(r.failures, detail)
	}
}

type client struct {
	target   string
	pattern  string
	deadline time.Time
	duration time.Duration
	keys     map[string]string
	conns    []*grpc.ClientConn
	next     int
	nextMu   sync.Mutex
	result   result
}

func (c *client) key(name string, fallback int64) int64 {
	value, ok := c.keys[name]
	if !ok {
		return fallback
	}
	parsed, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		logf("%s=%s is not a number", name, value)
		os.Exit(2)
	}
	return parsed
}

func (c *client) conn() *grpc.ClientConn {
	c.nextMu.Lock()
	defer c.nextMu.Unlock()
	conn := c.conns[c.next%len(c.conns)]
	c.next++
	return conn
}

func (c *client) dial() error {
	options := []grpc.DialOption{grpc.WithInsecure(), grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}))}
	if keepaliveMs := c.key("keepalive_ms", 0); keepaliveMs > 0 {
		// grpc-go raises a Time under 10 s to 10 s (keepalive.ClientParameters)
		options = append(options, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                time.Duration(keepaliveMs) * time.Millisecond,
			Timeout:             time.Duration(c.key("keepalive_timeout_ms", 20000)) * time.Millisecond,
			PermitWithoutStream: c.key("without_calls", 0) == 1,
		}))
	}
	for i := int64(0); i < c.key("channels", 1); i++ {
		conn, err := grpc.Dial(c.target, options...)
		if err != nil {
			return err
		}
		c.conns = append(c.conns, conn)
	}
	return nil
}

func (c *client) run() {
	patterns := map[string]func(){
		"unary": c.unary, "errors": c.errors, "cancel": c.cancel, "download": c.download, "upload": c.upload,
		"bidi": c.bidi, "concurrent": c.concurrent, "idle": c.idle, "mixed": c.mixed,
	}
	pattern, ok := patterns[c.pattern]
	if !ok {
		logf("unknown pattern %s", c.pattern)
		os.Exit(2)
	}
	c.result.expected = map[string]int{}
	c.result.failed = map[string]int{}
	c.result.failures = []string{}
	if err := c.dial(); err != nil {
		logf("cannot dial %s: %v", c.target, err)
		os.Exit(1)
	}
	c.deadline = time.Now().Add(c.duration)
	pattern()
	// Let the last RST_STREAMs and the DATA still in flight settle: a socket closed with unread
	// bytes is reset by the kernel, which the server sees as an error rather than a close.
	time.Sleep(200 * time.Millisecond)
	for _, conn := range c.conns {
		conn.Close()
	}
	event := map[string]interface{}{"event": "result", "peer": "grpc-go/" + grpc.Version, "pattern": c.pattern,
		"ok": c.result.ok, "expected": c.result.expected, "failed": c.result.failed,
		"failures": c.result.failures, "messages": c.result.messages, "bytes": c.result.bytes}
	if c.pattern == "idle" {
		event["closed"] = c.result.closed
	}
	emit(event)
}

// paced starts calls of the given kinds in turn at `rate` a second, at most `concurrency` in flight.
func (c *client) paced(kinds ...func()) {
	rate := c.key("rate", 250)
	slots := make(chan struct{}, c.key("concurrency", 32))
	var calls sync.WaitGroup
	started := time.Now()
	for n := int64(0); ; n++ {
		due := started.Add(time.Duration(n) * time.Second / time.Duration(rate))
		if !due.Before(c.deadline) {
			break
		}
		time.Sleep(time.Until(due))
		slots <- struct{}{}
		calls.Add(1)
		go func(kind func()) {
			defer calls.Done()
			defer func() { <-slots }()
			kind()
		}(kinds[n%int64(len(kinds))])
	}
	calls.Wait()
}

func (c *client) callUnary(request []byte) {
	var reply []byte
	if err := c.conn().Invoke(context.Background(), echoMethod, request, &reply); err != nil {
		c.result.outcome(err)
		return
	}
	c.result.succeeded(len(reply))
}

func (c *client) callExpectingError(method string, request []byte, timeout time.Duration, expected codes.Code) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	var reply []byte
	if err := c.conn().Invoke(ctx, method, request, &reply); err != nil {
		if timeout > 0 && status.Code(err) == codes.Unavailable && strings.Contains(status.Convert(err).Message(), "HTTP status code 502") {
			// Through nginx: the server reset the call at the same deadline (grpc-timeout) before
			// this client's own timer fired, and nginx answers that reset with a 502.
			c.result.mu.Lock()
			c.result.expected["DEADLINE_EXCEEDED (HTTP 502 via proxy)"]++
			c.result.mu.Unlock()
			return
		}
		c.result.outcome(err, expected)
		return
	}
	c.result.mu.Lock()
	c.result.fail("OK", method+" answered OK where "+codeName(expected)+" was expected")
	c.result.mu.Unlock()
}

var (
	notFoundRequest = echoRequest([]byte("x"), 0, "NOT_FOUND", nil)
	plainRequest    = echoRequest([]byte("x"), 0, "", nil)
	slowRequest     = echoRequest([]byte("x"), 200, "", nil)
)

func (c *client) callNotFound() {
	c.callExpectingError(echoMethod, notFoundRequest, 0, codes.NotFound)
}

func (c *client) callMissing() {
	c.callExpectingError(missingMethod, plainRequest, 0, codes.Unimplemented)
}

func (c *client) callDeadline() {
	c.callExpectingError(echoMethod, slowRequest, 50*time.Millisecond, codes.DeadlineExceeded)
}

var streamDesc = &grpc.StreamDesc{ServerStreams: true}

func (c *client) callCancelledStream() {
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	defer cancel()
	stream, err := c.conn().NewStream(ctx, streamDesc, streamMethod)
	if err == nil {
		err = stream.SendMsg(streamRequest(1000, 10, 0, 0))
	}
	if err == nil {
		err = stream.CloseSend()
	}
	for err == nil {
		var reply []byte
		if err = stream.RecvMsg(&reply); err == nil {
			c.result.received(len(reply))
		}
	}
	if err == io.EOF {
		c.result.mu.Lock()
		c.result.fail("OK", "a 10 s stream completed within 50 ms")
		c.result.mu.Unlock()
		return
	}
	c.result.outcome(err, codes.Canceled)
}

func (c *client) unary() {
	request := echoRequest([]byte(strings.Repeat("x", int(c.key("size", 100)))), 0, "", nil)
	c.paced(func() { c.callUnary(request) })
}

func (c *client) errors() {
	c.paced(c.callNotFound, c.callMissing)
}

func (c *client) cancel() {
	c.paced(c.callDeadline, c.callCancelledStream)
}

func (c *client) mixed() {
	request := echoRequest([]byte(strings.Repeat("x", int(c.key("size", 100)))), 0, "", nil)
	unary := func() { c.callUnary(request) }
	c.paced(unary, c.callNotFound, unary, c.callMissing, c.callDeadline, c.callCancelledStream)
}

// parallel runs n copies of body at once and waits for them.
func parallel(n int64, body func()) {
	var done sync.WaitGroup
	for i := int64(0); i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			body()
		}()
	}
	done.Wait()
}

func (c *client) download() {
	request := streamRequest(c.key("count", 2000), 0, 0, c.key("size", 16384))
	parallel(c.key("streams", 4), func() {
		// no deadline: a stream that is running when the duration ends completes, so that the
		// pattern asks for no status of its own
		for time.Now().Before(c.deadline) {
			stream, err := c.conn().NewStream(context.Background(), streamDesc, streamMethod)
			if err == nil {
				err = stream.SendMsg(request)
			}
			if err == nil {
				err = stream.CloseSend()
			}
			for err == nil {
				var reply []byte
				if err = stream.RecvMsg(&reply); err == nil {
					c.result.received(len(reply))
				}
			}
			if err == io.EOF {
				c.result.mu.Lock()
				c.result.ok++
				c.result.mu.Unlock()
				continue
			}
			c.result.outcome(err)
			time.Sleep(10 * time.Millisecond) // not a hot loop against a server that is gone
		}
	})
}

func (c *client) upload() {
	payload := make([]byte, c.key("size", 1048576))
	request := echoRequest([]byte("up"), 0, "", payload)
	parallel(c.key("concurrency", 4), func() {
		for time.Now().Before(c.deadline) {
			var reply []byte
			if err := c.conn().Invoke(context.Background(), echoMethod, request, &reply); err != nil {
				c.result.outcome(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			c.result.succeeded(len(reply))
			c.result.mu.Lock()
			c.result.bytes += int64(len(payload))
			c.result.mu.Unlock()
		}
	})
}

var chatDesc = &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}

func (c *client) bidi() {
	rate := c.key("rate", 100)
	request := echoRequest([]byte(strings.Repeat("x", int(c.key("size", 20)))), 0, "", nil)
	parallel(c.key("streams", 8), func() {
		stream, err := c.conn().NewStream(context.Background(), chatDesc, chatMethod)
		if err != nil {
			c.result.outcome(err)
			return
		}
		received := make(chan error, 1)
		go func() {
			for {
				var reply []byte
				if err := stream.RecvMsg(&reply); err != nil {
					received <- err
					return
				}
				c.result.received(len(reply))
			}
		}()
		started := time.Now()
		for n := int64(0); ; n++ {
			due := started.Add(time.Duration(n) * time.Second / time.Duration(rate))
			if !due.Before(c.deadline) {
				break
			}
			time.Sleep(time.Until(due))
			if stream.SendMsg(request) != nil {
				break // the status comes from RecvMsg
			}
		}
		stream.CloseSend()
		if err := <-received; err != io.EOF {
			c.result.outcome(err)
			return
		}
		c.result.mu.Lock()
		c.result.ok++
		c.result.mu.Unlock()
	})
}

func (c *client) concurrent() {
	request := echoRequest([]byte("c"), 200, "", nil)
	parallel(c.key("calls", 150), func() {
		for time.Now().Before(c.deadline) {
			var reply []byte
			if err := c.conn().Invoke(context.Background(), echoMethod, request, &reply); err != nil {
				c.result.outcome(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			c.result.succeeded(len(reply))
		}
	})
}

func (c *client) idle() {
	conn := c.conns[0]
	if c.key("withcall", 1) == 1 {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stream, err := conn.NewStream(ctx, streamDesc, streamMethod)
		if err == nil {
			err = stream.SendMsg(streamRequest(0, 0, c.duration.Milliseconds()+60000, 0))
		}
		if err == nil {
			err = stream.CloseSend()
		}
		ended := make(chan error, 1)
		go func() {
			for err == nil {
				var reply []byte
				err = stream.RecvMsg(&reply)
			}
			ended <- err
		}()
		select {
		case err = <-ended:
			c.result.closed = codeName(status.Code(err)) + ": " + status.Convert(err).Message()
			c.result.mu.Lock()
			c.result.fail(codeName(status.Code(err)), c.result.closed.(string))
			c.result.mu.Unlock()
		case <-time.After(time.Until(c.deadline)):
			c.result.ok++
		}
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), c.deadline)
	defer cancel()
	state := conn.GetState()
	for state != connectivity.Ready {
		if !conn.WaitForStateChange(ctx, state) {
			break
		}
		state = conn.GetState() // grpc-go 1.33's Dial starts connecting at once, without a call
	}
	for conn.WaitForStateChange(ctx, state) {
		state = conn.GetState()
		if state != connectivity.Ready {
			c.result.closed = strings.ToUpper(state.String())
			c.result.fail(c.result.closed.(string), "the connection left READY for "+state.String())
			return
		}
	}
	if state == connectivity.Ready {
		c.result.ok++
	} else {
		c.result.fail(strings.ToUpper(state.String()), "never connected")
	}
}

// --- server ------------------------------------------------------------------------------------

// testService is what RegisterService checks the implementation against: the handlers below need nothing.
type testService interface{}

// answer is an EchoReply for an EchoRequest, or the status it asks for (trailers only).
func answer(request []byte) ([]byte, error) {
	m, err := parse(request)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if delay := m.varints[2]; delay > 0 {
		time.Sleep(time.Duration(delay) * time.Millisecond)
	}
	if name := string(m.bytes[3]); name != "" {
		var code codes.Code
		if err := code.UnmarshalJSON([]byte(strconv.Quote(name))); err != nil {
			return nil, status.Error(codes.InvalidArgument, "unknown status "+name)
		}
		return nil, status.Error(code, "asked for "+name)
	}
	return appendBytesField(nil, 1, m.bytes[1]), nil
}

func echoHandler(_ interface{}, _ context.Context, decode func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	var request []byte
	if err := decode(&request); err != nil {
		return nil, err
	}
	return answer(request)
}

func streamHandler(_ interface{}, stream grpc.ServerStream) error {
	var request []byte
	if err := stream.RecvMsg(&request); err != nil {
		return err
	}
	m, err := parse(request)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	payload := make([]byte, m.varints[4])
	for sequence := int64(0); sequence < m.varints[1]; sequence++ {
		if err := stream.SendMsg(appendBytesField(appendVarintField(nil, 1, sequence), 2, payload)); err != nil {
			return err
		}
		if interval := m.varints[2]; interval > 0 {
			select {
			case <-time.After(time.Duration(interval) * time.Millisecond):
			case <-stream.Context().Done():
				return stream.Context().Err()
			}
		}
	}
	select {
	case <-time.After(time.Duration(m.varints[3]) * time.Millisecond):
		return nil
	case <-stream.Context().Done():
		return stream.Context().Err()
	}
}

func chatHandler(_ interface{}, stream grpc.ServerStream) error {
	for {
		var request []byte
		if err := stream.RecvMsg(&request); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		reply, err := answer(request)
		if err != nil {
			return err
		}
		if err := stream.SendMsg(reply); err != nil {
			return err
		}
	}
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: service,
	HandlerType: (*testService)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Echo", Handler: echoHandler}},
	Streams: []grpc.StreamDesc{
		{StreamName: "Stream", Handler: streamHandler, ServerStreams: true},
		{StreamName: "Chat", Handler: chatHandler, ServerStreams: true, ClientStreams: true},
	},
}

func serve(keepaliveTimeMs int64, minPingIntervalMs int64) {
	server := grpc.NewServer(
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    time.Duration(keepaliveTimeMs) * time.Millisecond,
			Timeout: 20 * time.Second,
		}),
		// grpc-go's enforcement: a PING sooner than MinTime after the last one is a strike;
		// more than two strikes since the server last sent HEADERS or DATA -> GOAWAY too_many_pings
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             time.Duration(minPingIntervalMs) * time.Millisecond,
			PermitWithoutStream: true,
		}),
	)
	server.RegisterService(&serviceDesc, struct{}{})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logf("cannot listen: %v", err)
		os.Exit(1)
	}
	go func() {
		if err := server.Serve(listener); err != nil {
			logf("serve: %v", err)
		}
	}()
	emit(map[string]interface{}{"event": "listening", "port": listener.Addr().(*net.TCPAddr).Port})
	ioutil.ReadAll(os.Stdin)
	server.Stop()
}

func keyValues(arguments []string) map[string]string {
	keys := map[string]string{}
	for _, argument := range arguments {
		parts := strings.SplitN(argument, "=", 2)
		if len(parts) != 2 {
			logf("%q is not key=value", argument)
			os.Exit(2)
		}
		keys[parts[0]] = parts[1]
	}
	return keys
}

func number(argument string, what string) int64 {
	value, err := strconv.ParseInt(argument, 10, 64)
	if err != nil {
		logf("%s %q is not a number", what, argument)
		os.Exit(2)
	}
	return value
}

func main() {
	arguments := os.Args[1:]
	switch {
	case len(arguments) >= 4 && arguments[0] == "client":
		c := &client{target: arguments[1], pattern: arguments[2], keys: keyValues(arguments[4:]),
			duration: time.Duration(number(arguments[3], "duration_ms")) * time.Millisecond}
		c.run()
	case len(arguments) >= 3 && arguments[0] == "server":
		serve(number(arguments[1], "keepalive_time_ms"), number(arguments[2], "min_ping_interval_ms"))
	default:
		logf("usage: client <target> <pattern> <duration_ms> [key=value ...] | server <keepalive_time_ms> <min_ping_interval_ms>")
		os.Exit(2)
	}
}
