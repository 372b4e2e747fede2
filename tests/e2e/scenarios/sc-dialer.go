// sc-dialer: a Go service for the seccomp backend's end-to-end test
// (tests/e2e/seccomp_go.sh builds it with Debian's golang-go).  It serves
// TCP on 127.0.0.1:PORT (its argument) and, every 20 ms, dials itself and
// exchanges one line; each attempt is one stdout line:
//   op=dial n=N call=US done=US ok|failed ERRNO
// (Unix microseconds before and after; ERRNO from the dial's error).  The
// Go runtime makes its system calls itself, never through the C library.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: sc-dialer PORT")
		os.Exit(2)
	}
	addr := "127.0.0.1:" + os.Args[1]
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(2)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				l, _ := bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("echo " + l))
			}(c)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("dialer ready on", addr)
	ok, failed := 0, 0
	tick := time.NewTicker(20 * time.Millisecond)
	for n := 1; ; n++ {
		select {
		case <-stop:
			fmt.Printf("dialer ok=%d failed=%d\n", ok, failed)
			return
		case <-tick.C:
		}
		call := time.Now().UnixMicro()
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			fmt.Fprintf(c, "ping %d\n", n)
			_, err = bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
		done := time.Now().UnixMicro()
		if err == nil {
			ok++
			fmt.Printf("op=dial n=%d call=%d done=%d ok\n", n, call, done)
			continue
		}
		failed++
		name := "other"
		var en syscall.Errno
		if errors.As(err, &en) {
			switch en {
			case syscall.ECONNREFUSED:
				name = "ECONNREFUSED"
			case syscall.ECONNRESET:
				name = "ECONNRESET"
			case syscall.ETIMEDOUT:
				name = "ETIMEDOUT"
			}
		}
		fmt.Printf("op=dial n=%d call=%d done=%d failed %s (%v)\n", n, call, done, name, err)
	}
}
