"""A tiny device plugin that hands static CDI devices to containers, for the cluster tests.

Proves the path a static CDI spec takes without any DRA driver: the kubelet's device manager
asks the plugin to Allocate, the plugin answers with CDI device names, the kubelet puts them
in the CRI request, and containerd applies the spec from /etc/cdi or /var/run/cdi (env vars,
mounts, device nodes). Pod annotations cannot do this: the kubelet does not copy a pod's
annotations into the container's CRI annotations, which is what containerd reads.

It registers through the kubelet's plugin watcher (<kubelet root>/plugins_registry), so
every kubelet on a multi-node host gets its own plugin. Built inside the Kubernetes wrapper
module, whose dependencies (the kubelet API, gRPC) it shares.
"""

from __future__ import annotations

CDI_PLUGIN = "fakehw-cdi-plugin"
CDI_PLUGIN_PACKAGE = "./cmd/fakehw-cdi-plugin"

CDI_PLUGIN_MAIN_GO = """\
// Command fakehw-cdi-plugin advertises N devices of one extended resource and answers every
// Allocate with the same CDI device names.
package main

import (
\t"context"
\t"flag"
\t"fmt"
\t"log"
\t"net"
\t"os"
\t"os/signal"
\t"path/filepath"
\t"strings"
\t"syscall"

\t"google.golang.org/grpc"
\tdp "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
\treg "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

type plugin struct {
\tdp.UnimplementedDevicePluginServer
\treg.UnimplementedRegistrationServer
\tresource string
\tendpoint string
\tcount    int
\tcdi      []string
}

func (p *plugin) GetInfo(context.Context, *reg.InfoRequest) (*reg.PluginInfo, error) {
\treturn &reg.PluginInfo{Type: reg.DevicePlugin, Name: p.resource, Endpoint: p.endpoint,
\t\tSupportedVersions: []string{dp.Version}}, nil
}

func (p *plugin) NotifyRegistrationStatus(
	_ context.Context, s *reg.RegistrationStatus,
) (*reg.RegistrationStatusResponse, error) {
\tlog.Printf("registered=%v error=%q", s.PluginRegistered, s.Error)
\treturn &reg.RegistrationStatusResponse{}, nil
}

func (p *plugin) GetDevicePluginOptions(
	context.Context, *dp.Empty,
) (*dp.DevicePluginOptions, error) {
\treturn &dp.DevicePluginOptions{}, nil
}

func (p *plugin) ListAndWatch(
	_ *dp.Empty, stream grpc.ServerStreamingServer[dp.ListAndWatchResponse],
) error {
\tdevices := make([]*dp.Device, p.count)
\tfor i := range devices {
\t\tdevices[i] = &dp.Device{ID: fmt.Sprintf("dev%d", i), Health: dp.Healthy}
\t}
\tif err := stream.Send(&dp.ListAndWatchResponse{Devices: devices}); err != nil {
\t\treturn err
\t}
\t<-stream.Context().Done()
\treturn nil
}

func (p *plugin) Allocate(
	_ context.Context, req *dp.AllocateRequest,
) (*dp.AllocateResponse, error) {
\tresponse := &dp.AllocateResponse{}
\tfor range req.ContainerRequests {
\t\tanswer := &dp.ContainerAllocateResponse{}
\t\tfor _, name := range p.cdi {
\t\t\tanswer.CdiDevices = append(answer.CdiDevices, &dp.CDIDevice{Name: name})
\t\t}
\t\tresponse.ContainerResponses = append(response.ContainerResponses, answer)
\t}
\tlog.Printf("allocated %d container(s): %v", len(req.ContainerRequests), p.cdi)
\treturn response, nil
}

func serve(path string, register func(*grpc.Server)) *grpc.Server {
\t_ = os.Remove(path)
\tlistener, err := net.Listen("unix", path)
\tif err != nil {
\t\tlog.Fatalf("listen on %s: %v", path, err)
\t}
\tserver := grpc.NewServer()
\tregister(server)
\tgo func() { _ = server.Serve(listener) }()
\treturn server
}

func main() {
\tregistry := flag.String("registry-dir", "", "the kubelet's plugins_registry directory")
\tsocketDir := flag.String("socket-dir", "", "where to put the device plugin socket")
\tresource := flag.String("resource", "fakehw.io/cdi-test", "extended resource name")
\tcount := flag.Int("count", 2, "number of devices")
\tcdi := flag.String("cdi-devices", "", "comma-separated CDI device names for each container")
\tflag.Parse()
\tif *registry == "" || *socketDir == "" || *cdi == "" {
\t\tlog.Fatal("--registry-dir, --socket-dir and --cdi-devices are required")
\t}
\tname := strings.ReplaceAll(*resource, "/", "-")
\tp := &plugin{resource: *resource, count: *count, cdi: strings.Split(*cdi, ","),
\t\tendpoint: filepath.Join(*socketDir, name+".sock")}
\tdevicePlugin := serve(p.endpoint, func(s *grpc.Server) { dp.RegisterDevicePluginServer(s, p) })
\tregistration := serve(filepath.Join(*registry, name+"-reg.sock"),
\t\tfunc(s *grpc.Server) { reg.RegisterRegistrationServer(s, p) })
\tlog.Printf("serving %s at %s", *resource, p.endpoint)
\tsignals := make(chan os.Signal, 1)
\tsignal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
\t<-signals
\tregistration.Stop()
\tdevicePlugin.Stop()
\t_ = os.Remove(p.endpoint)
\t_ = os.Remove(filepath.Join(*registry, name+"-reg.sock"))
}
"""
