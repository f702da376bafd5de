package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:generate go run ./gen .

var (
	//go:embed icon.png
	iconPNG []byte
	//go:embed tray-ok.png
	trayOKPNG []byte
	//go:embed tray-expiring.png
	trayExpiringPNG []byte
	//go:embed tray-attention.png
	trayAttentionPNG []byte
	//go:embed tray-empty.png
	trayEmptyPNG []byte
)

// The icons, as Fyne resources.
var (
	// Icon is the app icon (256×256), also named by FyneApp.toml.
	Icon = fyne.NewStaticResource("icon.png", iconPNG)
	// TrayOK is the tray icon when every connection is fresh.
	TrayOK = fyne.NewStaticResource("tray-ok.png", trayOKPNG)
	// TrayExpiring is the tray icon when a key expires soon or is refreshing.
	TrayExpiring = fyne.NewStaticResource("tray-expiring.png", trayExpiringPNG)
	// TrayAttention is the tray icon when a connection needs the user.
	TrayAttention = fyne.NewStaticResource("tray-attention.png", trayAttentionPNG)
	// TrayEmpty is the tray icon when nothing is connected.
	TrayEmpty = fyne.NewStaticResource("tray-empty.png", trayEmptyPNG)
)
