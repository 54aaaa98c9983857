package hostd

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/hostd/hostd/framework/config"
)

// debounce lets a burst of file events (an editor's save, a compiler
// writing a binary) settle into one reload.
const debounce = 300 * time.Millisecond

// watcher reloads the host when the configuration file or a plugin
// executable changes. It watches their folders, since editors and
// compilers replace files rather than write them in place.
type watcher struct {
	h  *Host
	fw *fsnotify.Watcher

	mu    sync.Mutex
	files map[string]bool // absolute paths that matter
	dirs  map[string]bool
	timer *time.Timer
	done  chan struct{}
}

func newWatcher(h *Host) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{h: h, fw: fw, files: map[string]bool{}, dirs: map[string]bool{}, done: make(chan struct{})}
	go w.run()
	return w, nil
}

// update sets the files to watch for cfg.
func (w *watcher) update(cfg *config.Config) {
	files := map[string]bool{}
	if w.h.opts.ConfigFile != "" {
		if abs, err := filepath.Abs(w.h.opts.ConfigFile); err == nil {
			files[abs] = true
		}
	}
	for _, p := range cfg.Plugins {
		if p.Cmd != "" && p.Watch {
			files[p.Cmd] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files = files
	for f := range files {
		dir := filepath.Dir(f)
		if !w.dirs[dir] {
			if err := w.fw.Add(dir); err != nil {
				w.h.log.Warn("cannot watch", "dir", dir, "error", err)
				continue
			}
			w.dirs[dir] = true
		}
	}
}

func (w *watcher) run() {
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			w.mu.Lock()
			relevant := w.files[filepath.Clean(ev.Name)]
			if relevant {
				if w.timer != nil {
					w.timer.Stop()
				}
				w.timer = time.AfterFunc(debounce, w.reload)
			}
			w.mu.Unlock()
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.h.log.Warn("file watcher", "error", err)
		}
	}
}

func (w *watcher) reload() {
	w.h.log.Info("a watched file changed; reloading")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = w.h.Reload(ctx)
}

func (w *watcher) close() {
	close(w.done)
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	w.fw.Close()
}
