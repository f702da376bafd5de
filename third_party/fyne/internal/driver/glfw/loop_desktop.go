//go:build !wasm && !test_web_driver

package glfw

import (
	"fmt"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/internal/build"

	"github.com/go-gl/glfw/v3.4/glfw"
)

// platform values returned by forcePlatform to override GLFW's auto-detection.
const (
	platformAuto    = ""
	platformX11     = "x11"
	platformWayland = "wayland"
)

func (d *gLDriver) initGLFW() {
	switch forcePlatform() {
	case platformX11:
		glfw.InitHint(glfw.PlatformHint, int(glfw.PlatformX11))
	case platformWayland:
		glfw.InitHint(glfw.PlatformHint, int(glfw.PlatformWayland))
	}

	err := glfw.Init()
	if err != nil {
		fyne.LogError("failed to initialise GLFW", err)
		return
	}
	glfwLive.Lock()
	glfwLive.up = true
	glfwLive.Unlock()

	initCursors()
	if glfw.GetPlatform() == glfw.PlatformWayland {
		build.IsWayland = true
	}
}

func (d *gLDriver) pollEvents() {
	glfw.PollEvents() // This call blocks while window is being resized, which prevents freeDirtyTextures from being called
}

func (d *gLDriver) Terminate() {
	glfwLive.Lock()
	defer glfwLive.Unlock()
	glfwLive.up = false
	glfw.Terminate()
}

// tokentray: the idle mode of runGL (loop.go).

// idleSupported reports whether runGL may block in waitEvents.
const idleSupported = true

// glfwLive says whether GLFW is between Init and Terminate, the only time
// wakeMain may call it from another goroutine.
var glfwLive struct {
	sync.RWMutex
	up bool
}

// waitEvents blocks until an event arrives (input, or wakeMain's empty
// event) or timeout seconds pass, and processes the events like pollEvents.
func (d *gLDriver) waitEvents(timeout float64) {
	glfw.WaitEventsTimeout(timeout)
}

// wakeMain makes a waitEvents in progress on the main thread return. It may
// be called from any goroutine.
func wakeMain() {
	glfwLive.RLock()
	defer glfwLive.RUnlock()
	if !glfwLive.up {
		return
	}
	// go-gl/glfw turns a pending GLFW error, of any thread, into a panic
	// of the goroutine that calls it next: here it must not end the app.
	defer func() {
		if r := recover(); r != nil {
			fyne.LogError("failed to wake the main loop", fmt.Errorf("%v", r))
		}
	}()
	glfw.PostEmptyEvent()
}
