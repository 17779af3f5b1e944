package tui

// detailLayout is where the detail pane goes.
type detailLayout int

const (
	detailAuto  detailLayout = iota // right when wide, below otherwise
	detailRight                     // beside the list
	detailBelow                     // under the list
	detailFull                      // instead of the timeline and the list
)

// layoutInfo is where each part of the screen is, computed from the size
// and the state; View draws it and the mouse handlers read it.
type layoutInfo struct {
	width, height      int
	bannerY, progressY int // -1 when absent
	tlY, tlH           int
	listHeadY          int
	listY, listRows    int
	listW              int
	detailX, detailY   int
	detailW, detailH   int
	detailOpen         bool
	barY, hintY        int
}

func (m *Model) layout() layoutInfo {
	w, h := max(m.ctx.width, 20), max(m.ctx.height, 6)
	l := layoutInfo{width: w, height: h, bannerY: -1, progressY: -1}
	y := 1 // header
	if m.ctx.opts.Banner != "" {
		l.bannerY = y
		y++
	}
	if m.showProgress() {
		l.progressY = y
		y++
	}
	l.hintY = h - 1
	l.barY = h - 2
	bottom := l.barY // first line below the panes
	mode := m.detail.layoutFor(w)
	l.detailOpen = m.detail.open || m.side.open
	if l.detailOpen && mode == detailFull {
		l.detailX, l.detailY, l.detailW, l.detailH = 0, y+1, w, max(1, bottom-y-1)
		l.listHeadY, l.listY = -1, -1
		return l
	}
	switch {
	case h >= 40:
		l.tlH = 7
	case h >= 20:
		l.tlH = 4
	case h >= 14:
		l.tlH = 3
	}
	l.tlY = y
	y += l.tlH
	l.listW = w
	l.listHeadY = y
	l.listY = y + 1
	l.listRows = max(1, bottom-l.listY)
	if l.detailOpen {
		switch mode {
		case detailRight:
			l.detailW = max(30, w*9/20)
			l.listW = w - l.detailW - 1
			l.detailX, l.detailY, l.detailH = l.listW+1, l.listHeadY+1, max(1, bottom-l.listHeadY-1)
		default: // below
			avail := bottom - l.listY
			l.listRows = max(3, avail*2/5)
			l.detailX, l.detailW = 0, w
			l.detailY = l.listY + l.listRows + 1
			l.detailH = max(1, bottom-l.detailY)
		}
	}
	return l
}

func (l layoutInfo) inList(x, y int) bool {
	return l.listY >= 0 && y >= l.listY && y < l.listY+l.listRows && x < l.listW
}

func (l layoutInfo) inTimeline(x, y int) bool {
	return l.tlH > 0 && y >= l.tlY && y < l.tlY+l.tlH && x < l.width
}

func (l layoutInfo) inDetail(x, y int) bool {
	return l.detailOpen && x >= l.detailX && x < l.detailX+l.detailW && y >= l.detailY && y < l.detailY+l.detailH
}

func (d *detailPane) layoutFor(width int) detailLayout {
	if d.mode != detailAuto {
		return d.mode
	}
	if width >= 140 {
		return detailRight
	}
	return detailBelow
}

// cycleLayout moves the detail pane right → below → full screen.
func (d *detailPane) cycleLayout(width int) {
	switch d.layoutFor(width) {
	case detailFull:
		d.mode = detailRight
	case detailRight:
		d.mode = detailBelow
	default:
		d.mode = detailFull
	}
}
