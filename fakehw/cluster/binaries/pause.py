"""The project's own pause program: the process that holds a pod's namespaces.

No registry is reachable, so registry.k8s.io/pause cannot be pulled. Any static binary that
blocks, exits on SIGTERM/SIGINT and reaps the zombies re-parented to it (it is PID 1 of the
pod) does the same job; this one is written in Go because Go is already needed for the build.
"""

from __future__ import annotations

PAUSE_GO_MOD = "module fakehw.local/pause\n\ngo 1.26.0\n"

PAUSE_MAIN_GO = """\
// Command pause holds a pod's namespaces: it blocks, reaps zombies, and exits on SIGTERM/SIGINT.
package main

import (
\t"os"
\t"os/signal"
\t"syscall"
)

func main() {
\tif len(os.Args) > 1 && os.Args[1] == "-v" {
\t\tos.Stdout.WriteString("fakehw pause\\n")
\t\treturn
\t}
\tsignals := make(chan os.Signal, 16)
\tsignal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
\tfor sig := range signals {
\t\tif sig == syscall.SIGCHLD {
\t\t\treap()
\t\t\tcontinue
\t\t}
\t\tos.Exit(0)
\t}
}

// reap collects every exited child so none stays a zombie.
func reap() {
\tfor {
\t\tvar status syscall.WaitStatus
\t\tpid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
\t\tif pid <= 0 || err != nil {
\t\t\treturn
\t\t}
\t}
}
"""
