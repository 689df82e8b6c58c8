package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Server serves an App on one loopback address once the app's startup delay has passed.
type Server struct {
	app  *App
	addr string
	srv  *http.Server

	ready  chan struct{} // closed when the port answers
	failed chan struct{} // closed when listening failed after the delay
	stop   chan struct{} // closed by Close/Shutdown before the port opened
	wg     sync.WaitGroup

	mu      sync.Mutex
	ln      net.Listener
	err     error
	stopped bool
}

// Listen serves a on host:Config.Port (port 0 picks a free one) after a.StartupDelay() on the
// app's clock; until then connections are refused, as from a container still starting. host
// must be a loopback address. With no delay the port is bound before Listen returns and a bind
// error is returned; a later bind error is reported by Err.
func (a *App) Listen(host string) (*Server, error) {
	ip, err := LoopbackAddr(host)
	if err != nil {
		return nil, err
	}
	s := &Server{
		app:   a,
		addr:  net.JoinHostPort(ip.String(), strconv.Itoa(int(a.Config().Port))),
		srv:   &http.Server{Handler: a},
		ready: make(chan struct{}), failed: make(chan struct{}), stop: make(chan struct{}),
	}
	if a.startup <= 0 {
		if err := s.listen(); err != nil {
			return nil, err
		}
		return s, nil
	}
	t := a.clk.NewTimer(a.startup)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer t.Stop()
		select {
		case <-t.C():
		case <-s.stop:
			return
		}
		if err := s.listen(); err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			close(s.failed)
		}
	}()
	return s, nil
}

func (s *Server) listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("app server stopped")
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.addr = ln.Addr().String()
	close(s.ready)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln) // returns ErrServerClosed on Shutdown/Close
	}()
	return nil
}

// App returns the served app.
func (s *Server) App() *App { return s.app }

// Addr is host:port; the real port once Ready.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Ready is closed once the port answers.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Failed is closed if binding the port failed after the startup delay; Err says why.
func (s *Server) Failed() <-chan struct{} { return s.failed }

// Err is the bind error after the startup delay, if any.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// markStopped makes a pending delayed listen give up; it reports whether the port is open.
func (s *Server) markStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	return s.ln != nil
}

// Shutdown stops accepting and waits for in-flight requests (http.Server.Shutdown) or ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	if s.markStopped() {
		err = s.srv.Shutdown(ctx)
	}
	if err != nil {
		_ = s.srv.Close()
	}
	s.wg.Wait()
	return err
}

// Close stops the server at once, dropping open connections.
func (s *Server) Close() error {
	var err error
	if s.markStopped() {
		err = s.srv.Close()
	}
	s.wg.Wait()
	return err
}
