package appid

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Peer is a process pinned by a pidfd: while it is open, a pid that is
// reused after the process exits is told apart. Close it when the connection
// ends. A Peer is safe for concurrent use.
type Peer struct {
	PID int
	UID int
	// Weak reports that the pidfd came from pidfd_open(PID) after the fact
	// (kernel before 6.5 without SO_PEERPIDFD, or PinPID): the pid may already
	// have been reused by then.
	Weak bool

	mu    sync.Mutex // guards pidfd
	pidfd int        // -1 once closed
}

// PinConn pins the process at the other end of c: SO_PEERCRED for pid and
// uid, SO_PEERPIDFD for the process itself (the kernel's record taken at
// connect time), else pidfd_open(pid), marked Weak.
func PinConn(c *net.UnixConn) (*Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	var cred *unix.Ucred
	var credErr, fdErr error
	pidfd := -1
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if credErr == nil {
			pidfd, fdErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PEERPIDFD)
		}
	}); err != nil {
		return nil, fmt.Errorf("raw socket control: %w", err)
	}
	if credErr != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", credErr)
	}
	if errors.Is(fdErr, unix.ESRCH) {
		return nil, fmt.Errorf("SO_PEERPIDFD: %w", ErrExited)
	}
	if fdErr != nil {
		if !errors.Is(fdErr, unix.ENOPROTOOPT) && !errors.Is(fdErr, unix.EINVAL) {
			return nil, fmt.Errorf("SO_PEERPIDFD: %w", fdErr)
		}
		p, err := PinPID(int(cred.Pid))
		if err != nil {
			return nil, err
		}
		p.UID = int(cred.Uid)
		return p, nil
	}
	p := &Peer{PID: int(cred.Pid), UID: int(cred.Uid), pidfd: pidfd}
	got, err := pidOfPidfd(pidfd)
	if err != nil {
		p.Close()
		return nil, err
	}
	if got != p.PID {
		p.Close()
		return nil, fmt.Errorf("pin peer %d: %w", p.PID, ErrExited)
	}
	return p, nil
}

// PinPID pins the process pid with pidfd_open. The result is Weak: the pid
// may have been reused before the call.
func PinPID(pid int) (*Peer, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, ErrExited)
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	st, err := os.Stat("/proc/" + strconv.Itoa(pid))
	uid := -1
	if err == nil {
		if s, ok := st.Sys().(*unix.Stat_t); ok {
			uid = int(s.Uid)
		}
	}
	return &Peer{PID: pid, UID: uid, Weak: true, pidfd: fd}, nil
}

// pidOfPidfd reads the pid a pidfd refers to from /proc/self/fdinfo; -1
// there means the process is gone.
func pidOfPidfd(fd int) (int, error) {
	f, err := os.Open("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, fmt.Errorf("pidfd info: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, fmt.Errorf("pidfd info: %w", err)
			}
			return pid, nil
		}
	}
	return 0, errors.New("pidfd info: no Pid line")
}

// Alive reports whether the pinned process has not exited. A closed Peer is
// not alive.
func (p *Peer) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pidfd < 0 {
		return false
	}
	return pidfdAlive(p.pidfd)
}

// pidfdAlive reports whether the process of pidfd has not exited: a pidfd
// polls readable once it has.
func pidfdAlive(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n == 0
	}
}

// Close releases the pidfd.
func (p *Peer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pidfd < 0 {
		return nil
	}
	err := unix.Close(p.pidfd)
	p.pidfd = -1
	return err
}

// Environ returns the environment the pinned process started with
// (VAR=value entries), read from /proc and then checked to still belong to
// it.
func (p *Peer) Environ() ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/environ")
	if err != nil {
		return nil, fmt.Errorf("appid: read the environment of %d: %w", p.PID, err)
	}
	if !p.Alive() {
		return nil, fmt.Errorf("appid: environment of %d: %w", p.PID, ErrExited)
	}
	b = []byte(strings.TrimSuffix(string(b), "\x00"))
	if len(b) == 0 {
		return []string{}, nil
	}
	return strings.Split(string(b), "\x00"), nil
}
