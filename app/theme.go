package app

import (
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// appTheme is Fyne's default theme with the text colours that fall short of
// WCAG AA (4.5:1) replaced: Fyne's light theme draws help text (Disabled)
// at 1.27:1 and success green at 1.48:1 on white. variant, when set,
// overrides the desktop's light or dark choice (Settings → Appearance).
type appTheme struct {
	variant *fyne.ThemeVariant // nil: follow the system
}

// The replaced colours. TestThemeContrast computes every text colour
// against every background it is drawn on, in both variants.
var themeColors = map[fyne.ThemeVariant]map[fyne.ThemeColorName]color.Color{
	theme.VariantLight: {
		theme.ColorNameDisabled:            color.NRGBA{0x68, 0x68, 0x68, 0xff},
		theme.ColorNamePlaceHolder:         color.NRGBA{0x68, 0x68, 0x68, 0xff},
		theme.ColorNameSuccess:             color.NRGBA{0x1b, 0x6e, 0x22, 0xff},
		theme.ColorNameWarning:             color.NRGBA{0x9a, 0x4f, 0x00, 0xff},
		theme.ColorNameError:               color.NRGBA{0xb7, 0x1c, 0x1c, 0xff},
		theme.ColorNamePrimary:             color.NRGBA{0x1a, 0x52, 0xc4, 0xff},
		theme.ColorNameForeground:          color.NRGBA{0x30, 0x30, 0x30, 0xff},
		theme.ColorNameForegroundOnPrimary: color.NRGBA{0xff, 0xff, 0xff, 0xff},
		theme.ColorNameForegroundOnError:   color.NRGBA{0xff, 0xff, 0xff, 0xff},
		theme.ColorNameForegroundOnSuccess: color.NRGBA{0xff, 0xff, 0xff, 0xff},
		theme.ColorNameForegroundOnWarning: color.NRGBA{0xff, 0xff, 0xff, 0xff},
	},
	theme.VariantDark: {
		theme.ColorNameDisabled:            color.NRGBA{0x9c, 0x9c, 0x9c, 0xff},
		theme.ColorNamePlaceHolder:         color.NRGBA{0x9c, 0x9c, 0x9c, 0xff},
		theme.ColorNameSuccess:             color.NRGBA{0x5c, 0xd6, 0x5c, 0xff},
		theme.ColorNameWarning:             color.NRGBA{0xff, 0xa7, 0x26, 0xff},
		theme.ColorNameError:               color.NRGBA{0xff, 0x6e, 0x66, 0xff},
		theme.ColorNamePrimary:             color.NRGBA{0x7a, 0xa7, 0xff, 0xff},
		theme.ColorNameForegroundOnPrimary: color.NRGBA{0x10, 0x10, 0x10, 0xff},
		theme.ColorNameForegroundOnError:   color.NRGBA{0x10, 0x10, 0x10, 0xff},
		theme.ColorNameForegroundOnSuccess: color.NRGBA{0x10, 0x10, 0x10, 0xff},
		theme.ColorNameForegroundOnWarning: color.NRGBA{0x10, 0x10, 0x10, 0xff},
	},
}

func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	if c, ok := themeColors[v][n]; ok {
		return c
	}
	return theme.DefaultTheme().Color(n, v)
}

func (t appTheme) Font(s fyne.TextStyle) fyne.Resource     { return theme.DefaultTheme().Font(s) }
func (t appTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }
func (t appTheme) Size(n fyne.ThemeSizeName) float32       { return theme.DefaultTheme().Size(n) }

// The appearance choices of Settings, as stored.
const (
	appearanceSystem = "system"
	appearanceLight  = "light"
	appearanceDark   = "dark"
)

// themeFor is the theme of an appearance choice.
func themeFor(choice string) fyne.Theme {
	var v fyne.ThemeVariant
	switch choice {
	case appearanceLight:
		v = theme.VariantLight
	case appearanceDark:
		v = theme.VariantDark
	default:
		return appTheme{}
	}
	return appTheme{variant: &v}
}

// appearancePath is where the appearance choice is kept: a file beside
// config.toml (under TOKENTRAY_HOME, so the demo keeps it in its temporary
// home); "" when there is no config folder.
func (u *ui) appearancePath() string {
	if u.opts.ConfigPath == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(u.opts.ConfigPath), "appearance")
}

// loadAppearance reads the stored choice; system when none.
func (u *ui) loadAppearance() string {
	if p := u.appearancePath(); p != "" {
		if b, err := os.ReadFile(p); err == nil {
			switch s := strings.TrimSpace(string(b)); s {
			case appearanceLight, appearanceDark:
				return s
			}
		}
	}
	return appearanceSystem
}

// setAppearance applies a choice and stores it.
func (u *ui) setAppearance(choice string) error {
	u.app.Settings().SetTheme(themeFor(choice))
	p := u.appearancePath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(choice+"\n"), 0o600)
}
