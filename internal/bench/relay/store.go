package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisProcess is a redis-server (or valkey-server) child on a free loopback port,
// persistence off.
type redisProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
}

// startRedis starts redis-server with its files in dir. errNoRedis when neither
// redis-server nor valkey-server is installed.
func startRedis(ctx context.Context, dir string) (*redisProcess, error) {
	bin := ""
	for _, name := range []string{"redis-server", "valkey-server"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		return nil, errNoRedis
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("redis port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logFile, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		return nil, fmt.Errorf("redis log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	rp := &redisProcess{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port), exited: make(chan error, 1)}
	go func() { rp.exited <- cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: rp.addr, DisableIdentity: true})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-rp.exited:
			return nil, fmt.Errorf("redis-server exited at start: %v (log in %s)", err, logFile.Name())
		case <-ctx.Done():
			rp.stop()
			return nil, ctx.Err()
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return rp, nil
		}
		if time.Now().After(deadline) {
			rp.stop()
			return nil, errors.New("redis-server did not answer PING in 10 s")
		}
	}
}

var errNoRedis = errors.New("redis-server is not installed")

func (rp *redisProcess) url() string { return "redis://" + rp.addr + "/0" }

func (rp *redisProcess) stop() {
	_ = rp.cmd.Process.Kill()
	<-rp.exited
}
