// vigil-vcsim: VMware's vSphere API simulator (govmomi's vcsim, as Debian
// packages it) wrapped for Vigil's tests and benchmark.
//
// The SOAP traffic is vcsim's own. In front of it sits a thin HTTP layer that
// (1) checks the credentials it was given, (2) injects the faults an API call
// cannot cause (a host not responding, a datastore lost on one host, expired
// sessions, SOAP faults, latency, 503 answers), and (3) models the pieces of
// vCenter behaviour vcsim lacks. Every such piece is marked "SIMULATED" below
// and listed in docs/providers/vsphere.md; none of it is VMware's code.
//
// Build (offline): GOPATH=/usr/share/gocode GO111MODULE=off go build
// On start it prints one JSON line on stdout with the addresses it chose.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	hostModeUp        = "up"
	hostModeDead      = "dead"      // the host is down: its VMs really stopped
	hostModePartition = "partition" // vCenter lost it, but its VMs keep running (and keep their VMFS locks)
)

type injectedFault struct {
	Method  string `json:"method"`
	Fault   string `json:"fault"`
	This    string `json:"this,omitempty"`
	Message string `json:"message,omitempty"`
	Left    int    `json:"left"` // -1: until cleared
}

type logEntry struct {
	T     string `json:"t"`
	Op    string `json:"op"`
	VM    string `json:"vm,omitempty"`
	Host  string `json:"host,omitempty"`
	Error string `json:"error,omitempty"`
}

type harness struct {
	mux  http.Handler
	user *url.Userinfo

	mu          sync.Mutex
	faults      []*injectedFault
	delays      map[string]time.Duration
	unavailable int // 503 answers left; -1 = until cleared
	calls       map[string]int
	hostMode    map[string]string // host moid -> mode
	locks       map[string]string // SIMULATED VMFS lock: .vmx path -> host moid still running it
	log         []logEntry
	errors      []logEntry
	panics      int // vcsim's own failures, answered as SystemError
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "SOAP listen address (port 0: any free port)")
	control := flag.String("control", "127.0.0.1:0", "control API listen address")
	clusters := flag.Int("clusters", 1, "clusters in the datacenter")
	hosts := flag.Int("hosts", 3, "hosts per cluster")
	vms := flag.Int("vms", 6, "VMs in total, split evenly over the clusters (rounded up)")
	datastores := flag.Int("ds", 1, "datastores, shared by every host")
	user := flag.String("user", "vigil", "user name the SOAP login accepts")
	pass := flag.String("pass", "vigil-pass", "password the SOAP login accepts")
	anyLogin := flag.Bool("any-login", false, "accept any non-empty credentials (vcsim's own default)")
	useTLS := flag.Bool("tls", false, "serve SOAP over TLS with a fresh self-signed certificate")
	idle := flag.Duration("session-idle-timeout", 0, "expire sessions idle this long (0: never)")
	autostart := flag.Bool("autostart", true, "power on every VM at start")
	stdinWatch := flag.Bool("exit-on-stdin-eof", false, "exit when stdin closes (tests: no orphan when the runner dies)")
	verbose := flag.Bool("verbose", false, "let vcsim log every call on stderr")
	flag.Parse()
	log.SetFlags(0)
	if !*verbose {
		log.SetOutput(ioutil.Discard) // vcsim logs every call; the tests read the control API instead
	}

	started := time.Now()
	simulator.SessionIdleTimeout = *idle
	m := simulator.VPX()
	m.Datacenter = 1
	m.Host = 0
	m.Cluster = *clusters
	m.ClusterHost = *hosts
	m.Datastore = *datastores
	m.Portgroup = 1
	m.Autostart = *autostart
	per := 0
	if *clusters > 0 {
		per = (*vms + *clusters - 1) / *clusters
	}
	m.Machine = per
	if err := m.Create(); err != nil {
		fatal("model: %v", err)
	}
	h := &harness{delays: map[string]time.Duration{}, calls: map[string]int{}, hostMode: map[string]string{}, locks: map[string]string{}}
	fixModel()

	listenURL := &url.URL{Host: "127.0.0.1:0"}
	if !*anyLogin {
		listenURL.User = url.UserPassword(*user, *pass)
		h.user = listenURL.User
	}
	m.Service.Listen = listenURL
	inner := m.Service.NewServer() // vcsim's own listener stays unused: every request goes through the harness
	h.mux = m.Service.ServeMux

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fatal("listen: %v", err)
	}
	ready := map[string]interface{}{"build_ms": time.Since(started).Milliseconds()}
	scheme := "http"
	var certFile string
	if *useTLS {
		cert, der, err := selfSigned()
		if err != nil {
			fatal("certificate: %v", err)
		}
		f, err := ioutil.TempFile("", "vigil-vcsim-*.pem")
		if err != nil {
			fatal("certificate file: %v", err)
		}
		_ = pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: der})
		_ = f.Close()
		certFile = f.Name()
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
		scheme = "https"
		s1 := sha1.Sum(der)
		s256 := sha256.Sum256(der)
		ready["caFile"] = certFile
		ready["thumbprint"] = colonHex(s1[:])
		ready["thumbprintSha256"] = colonHex(s256[:])
	}
	cln, err := net.Listen("tcp", *control)
	if err != nil {
		fatal("control listen: %v", err)
	}
	go func() { _ = http.Serve(ln, h) }()
	go func() { _ = http.Serve(cln, h.controlMux()) }()

	ready["url"] = fmt.Sprintf("%s://%s/sdk", scheme, ln.Addr().String())
	ready["control"] = fmt.Sprintf("http://%s", cln.Addr().String())
	ready["hosts"] = len(simulator.Map.All("HostSystem"))
	ready["vms"] = len(simulator.Map.All("VirtualMachine"))
	line, _ := json.Marshal(ready)
	fmt.Println(string(line))

	done := make(chan struct{}, 1)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; done <- struct{}{} }()
	if *stdinWatch {
		go func() { _, _ = io.Copy(ioutil.Discard, os.Stdin); done <- struct{}{} }()
	}
	<-done
	inner.Close()
	m.Remove()
	if certFile != "" {
		_ = os.Remove(certFile)
	}
}

func fatal(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "vigil-vcsim: "+format+"\n", a...)
	os.Exit(1)
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vigil-vcsim", Organization: []string{"Vigil test harness"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, nil
}

// ---------------------------------------------------------------------------
// Model repairs, before anyone connects (direct writes are fine: no watcher yet).

func fixModel() {
	hosts := allHosts()
	// vcsim bug: every datastore's host mounts list only the last host; the datastore folder lists it once per host.
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		var mounts []types.DatastoreHostMount
		for _, h := range hosts {
			mounts = append(mounts, mount(h.Self, ds.Info.GetDatastoreInfo().Url, true))
		}
		ds.Host = mounts
		// SIMULATED: the datastores stand for shared VMFS volumes, so that restarts elsewhere are possible.
		ds.Summary.Type = "VMFS"
		ds.Summary.MultipleHostAccess = types.NewBool(true)
	}
	for _, e := range simulator.Map.All("Folder") {
		f := e.(*simulator.Folder)
		seen := map[types.ManagedObjectReference]bool{}
		var kids []types.ManagedObjectReference
		for _, c := range f.ChildEntity {
			if !seen[c] {
				seen[c] = true
				kids = append(kids, c)
			}
		}
		f.ChildEntity = kids
	}
	// vcsim places new VMs at random; spread them round-robin by name so runs are repeatable.
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c := e.(*simulator.ClusterComputeResource)
		hostRefs := append([]types.ManagedObjectReference(nil), c.Host...)
		sort.Slice(hostRefs, func(i, j int) bool { return nameOf(hostRefs[i]) < nameOf(hostRefs[j]) })
		if len(hostRefs) == 0 {
			continue
		}
		var vms []*simulator.VirtualMachine
		for _, ve := range simulator.Map.All("VirtualMachine") {
			vm := ve.(*simulator.VirtualMachine)
			if vm.Runtime.Host != nil && contains(c.Host, *vm.Runtime.Host) {
				vms = append(vms, vm)
			}
		}
		sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
		lists := map[types.ManagedObjectReference][]types.ManagedObjectReference{}
		for i, vm := range vms {
			ref := hostRefs[i%len(hostRefs)]
			r := ref
			vm.Runtime.Host = &r
			r2 := ref
			vm.Summary.Runtime.Host = &r2
			lists[ref] = append(lists[ref], vm.Self)
		}
		for _, ref := range hostRefs {
			simulator.Map.Get(ref).(*simulator.HostSystem).Vm = lists[ref]
		}
	}
}

func mount(host types.ManagedObjectReference, path string, accessible bool) types.DatastoreHostMount {
	info := types.HostMountInfo{Path: path, AccessMode: "readWrite", Mounted: types.NewBool(true), Accessible: types.NewBool(accessible)}
	if !accessible {
		info.InaccessibleReason = "AllPathsDown_Start"
	}
	return types.DatastoreHostMount{Key: host, MountInfo: info}
}

func allHosts() []*simulator.HostSystem {
	var out []*simulator.HostSystem
	for _, e := range simulator.Map.All("HostSystem") {
		out = append(out, e.(*simulator.HostSystem))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func allVMs() []*simulator.VirtualMachine {
	var out []*simulator.VirtualMachine
	for _, e := range simulator.Map.All("VirtualMachine") {
		out = append(out, e.(*simulator.VirtualMachine))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func contains(refs []types.ManagedObjectReference, r types.ManagedObjectReference) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

func nameOf(ref types.ManagedObjectReference) string {
	if e, ok := simulator.Map.Get(ref).(mo.Entity); ok {
		return e.Entity().Name
	}
	return ref.Value
}

// find resolves an inventory name or a moid.
func find(kind, key string) mo.Entity {
	for _, e := range simulator.Map.All(kind) {
		if e.Entity().Name == key || e.Reference().Value == key {
			return e
		}
	}
	return nil
}

func vmxOf(vm *simulator.VirtualMachine) string {
	if vm.Config != nil && vm.Config.Files.VmPathName != "" {
		return vm.Config.Files.VmPathName
	}
	return vm.Summary.Config.VmPathName
}

func hostOf(vm *simulator.VirtualMachine) *simulator.HostSystem {
	if vm.Runtime.Host == nil {
		return nil
	}
	h, _ := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	return h
}

// ---------------------------------------------------------------------------
// The SOAP front end.

type moref struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

func (r *moref) ref() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: r.Type, Value: strings.TrimSpace(r.Value)}
}

type soapCall struct {
	This moref  `xml:"_this"`
	Path string `xml:"path"`
	Name string `xml:"name"`
	Host *moref `xml:"host"`
	Pool *moref `xml:"pool"`
	Spec struct {
		Host *moref `xml:"host"`
		Pool *moref `xml:"pool"`
	} `xml:"spec"`
	Priority string `xml:"priority"`
}

// parseCall finds the method element inside the SOAP Body and decodes the few arguments the harness looks at.
func parseCall(body []byte) (string, *soapCall) {
	d := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := d.Token()
		if err != nil {
			return "", nil
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if !inBody {
			inBody = se.Name.Local == "Body"
			continue
		}
		call := &soapCall{}
		if err := d.DecodeElement(call, &se); err != nil {
			return se.Name.Local, nil
		}
		return se.Name.Local, call
	}
}

func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/sdk") {
		h.mux.ServeHTTP(w, r)
		return
	}
	body, err := ioutil.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	method, call := parseCall(body)
	this := ""
	if call != nil {
		this = call.This.ref().Value
	}

	h.mu.Lock()
	h.calls[method]++
	unavailable := h.unavailable != 0
	if h.unavailable > 0 {
		h.unavailable--
	}
	delay := h.delays["*"] + h.delays[method]
	fault := h.takeFault(method, this)
	h.mu.Unlock()

	if unavailable {
		// What a load balancer in front of a vCenter that is down says.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>\n")
		return
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	if fault != nil {
		writeFault(w, fault.Fault, fault.Message)
		return
	}

	if call != nil && h.guarded(method) && h.authenticated(r) {
		if h.simulate(w, r, method, call, &body) {
			return
		}
	}

	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	// vcsim answers into a buffer, so the repairs below are in place before the caller sees the answer.
	rec := httptest.NewRecorder()
	if h.serveVcsim(rec, r) && call != nil && rec.Code == http.StatusOK {
		h.after(method, call)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	out := rec.Body.Bytes()
	if method == "MigrateVM_Task" {
		// The call was carried out as a RelocateVM_Task; vCenter answers in the name of the method called.
		out = bytes.ReplaceAll(out, []byte("RelocateVM_TaskResponse"), []byte("MigrateVM_TaskResponse"))
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// serveVcsim passes the call to vcsim. vcsim 0.24 panics in WaitForUpdatesEx
// when an update queued for an object was followed by the object's removal
// (a VM changed, then unregistered, between two polls); net/http would drop
// the connection. vCenter answers an internal error with a SystemError fault,
// so the harness does the same. It returns false when vcsim failed.
func (h *harness) serveVcsim(w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			h.mu.Lock()
			h.panics++
			h.mu.Unlock()
			writeFault(w, "SystemError", fmt.Sprintf("vcsim failed: %v", p))
			ok = false
		}
	}()
	h.mux.ServeHTTP(w, r)
	return true
}

// takeFault returns the injected fault for this call, if any (h.mu held).
func (h *harness) takeFault(method, this string) *injectedFault {
	for i, f := range h.faults {
		if f.Method != method || (f.This != "" && f.This != this) {
			continue
		}
		out := *f
		if f.Left > 0 {
			f.Left--
			if f.Left == 0 {
				h.faults = append(h.faults[:i], h.faults[i+1:]...)
			}
		}
		return &out
	}
	return nil
}

func writeFault(w http.ResponseWriter, fault, message string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	var msg bytes.Buffer
	_ = xml.EscapeText(&msg, []byte(message))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body>
<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>%s</faultstring><detail><%sFault xmlns="urn:vim25" xsi:type="%s"></%sFault></detail></soapenv:Fault>
</soapenv:Body>
</soapenv:Envelope>`, msg.String(), fault, fault, fault)
}

func writeTask(w http.ResponseWriter, method string, task types.ManagedObjectReference) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><%sResponse xmlns="urn:vim25"><returnval type="Task">%s</returnval></%sResponse></soapenv:Body></soapenv:Envelope>`, method, task.Value, method)
}

func (h *harness) guarded(method string) bool {
	switch method {
	case "MigrateVM_Task", "RelocateVM_Task", "UnregisterVM", "RegisterVM_Task", "PowerOnVM_Task":
		return true
	}
	return false
}

// authenticated asks vcsim itself whether the request's session is valid, so
// that the harness's own answers never reach a caller vcsim would refuse.
func (h *harness) authenticated(r *http.Request) bool {
	c, err := r.Cookie("vmware_soap_session")
	if err != nil {
		return false
	}
	probe := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(probe))
	req.AddCookie(c)
	req.RemoteAddr = r.RemoteAddr
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

// simulate carries out vCenter behaviour vcsim lacks. It returns true when it
// answered the call itself; it may also rewrite the body passed on to vcsim.
func (h *harness) simulate(w http.ResponseWriter, r *http.Request, method string, call *soapCall, body *[]byte) bool {
	switch method {
	case "MigrateVM_Task":
		// SIMULATED: vcsim has no MigrateVM_Task; vCenter's is a RelocateVM_Task with only host and pool.
		var spec bytes.Buffer
		if call.Host != nil {
			fmt.Fprintf(&spec, `<host type="HostSystem">%s</host>`, xmlText(call.Host.ref().Value))
		}
		if call.Pool != nil {
			fmt.Fprintf(&spec, `<pool type="ResourcePool">%s</pool>`, xmlText(call.Pool.ref().Value))
		}
		*body = []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><RelocateVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">%s</_this><spec>%s</spec><priority>defaultPriority</priority></RelocateVM_Task></soapenv:Body></soapenv:Envelope>`, xmlText(call.This.ref().Value), spec.String()))
		call.Spec.Host, call.Spec.Pool = call.Host, call.Pool
		return h.simulate(w, r, "RelocateVM_Task", call, body)

	case "RelocateVM_Task":
		vm, ok := simulator.Map.Get(call.This.ref()).(*simulator.VirtualMachine)
		if !ok {
			return false // vcsim answers ManagedObjectNotFound
		}
		if call.Spec.Host != nil {
			target, ok := simulator.Map.Get(call.Spec.Host.ref()).(*simulator.HostSystem)
			if !ok {
				// vcsim would panic on a nil type assertion; vCenter answers ManagedObjectNotFound.
				writeFault(w, "ManagedObjectNotFound", "The object '"+call.Spec.Host.ref().Value+"' has already been deleted or has not been completely created")
				return true
			}
			// SIMULATED guards, as vCenter refuses a vMotion from or to a host it cannot reach, or into maintenance.
			if src := hostOf(vm); src != nil && src.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
				h.failTask(w, method, vm, &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &src.Self}})
				return true
			}
			if target.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
				h.failTask(w, method, vm, &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &target.Self}})
				return true
			}
			if target.Runtime.InMaintenanceMode {
				h.failTask(w, method, vm, &types.InvalidHostState{Host: &target.Self})
				return true
			}
		}
		if call.Spec.Pool != nil {
			if _, ok := simulator.Map.Get(call.Spec.Pool.ref()).(*simulator.ResourcePool); !ok {
				writeFault(w, "ManagedObjectNotFound", "The object '"+call.Spec.Pool.ref().Value+"' has already been deleted or has not been completely created")
				return true
			}
		}
		return false

	case "UnregisterVM":
		vm, ok := simulator.Map.Get(call.This.ref()).(*simulator.VirtualMachine)
		if !ok {
			return false
		}
		// SIMULATED: vCenter unregisters a VM whose host it lost (the VM is disconnected or orphaned);
		// vcsim refuses because the VM's last known power state is still poweredOn.
		if src := hostOf(vm); src != nil && src.Runtime.ConnectionState != types.HostSystemConnectionStateConnected && vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
			simulator.Map.WithLock(vm, func() {
				simulator.Map.Update(vm, []types.PropertyChange{
					{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
					{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
				})
			})
		}
		h.record(logEntry{Op: "unregister", VM: vm.Name, Host: hostName(vm)})
		return false

	case "RegisterVM_Task":
		target := (*simulator.HostSystem)(nil)
		if call.Host != nil {
			t, ok := simulator.Map.Get(call.Host.ref()).(*simulator.HostSystem)
			if !ok {
				writeFault(w, "ManagedObjectNotFound", "The object '"+call.Host.ref().Value+"' has already been deleted or has not been completely created")
				return true
			}
			target = t
		}
		folder, _ := simulator.Map.Get(call.This.ref()).(*simulator.Folder)
		if folder == nil || target == nil {
			return false
		}
		if target.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
			h.failTask(w, method, folder, &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &target.Self}})
			return true
		}
		if target.Runtime.InMaintenanceMode {
			h.failTask(w, method, folder, &types.InvalidHostState{Host: &target.Self})
			return true
		}
		// vcsim panics when the host does not mount the datastore; vCenter refuses with InvalidDatastore,
		// and with InaccessibleDatastore when the host lost it.
		dsName := datastoreOfPath(call.Path)
		ds, _ := find("Datastore", dsName).(*simulator.Datastore)
		if ds == nil {
			h.failTask(w, method, folder, &types.InvalidDatastorePath{DatastorePath: call.Path})
			return true
		}
		mounted, accessible := false, false
		for _, mnt := range ds.Host {
			if mnt.Key == target.Self {
				mounted = true
				accessible = mnt.MountInfo.Accessible == nil || *mnt.MountInfo.Accessible
			}
		}
		if !mounted {
			h.failTask(w, method, folder, &types.InvalidDatastore{Datastore: &ds.Self, Name: ds.Name})
			return true
		}
		if !accessible || !ds.Summary.Accessible {
			h.failTask(w, method, folder, &types.InaccessibleDatastore{InvalidDatastore: types.InvalidDatastore{Datastore: &ds.Self, Name: ds.Name}})
			return true
		}
		h.record(logEntry{Op: "register", VM: call.Name, Host: target.Name})
		return false

	case "PowerOnVM_Task":
		vm, ok := simulator.Map.Get(call.This.ref()).(*simulator.VirtualMachine)
		if !ok {
			return false
		}
		host := hostOf(vm)
		if host != nil && host.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
			h.failTask(w, method, vm, &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &host.Self}})
			return true
		}
		vmx := vmxOf(vm)
		h.mu.Lock()
		holder, locked := h.locks[vmx]
		h.mu.Unlock()
		// SIMULATED VMFS lock: a VM still running on a partitioned host keeps its files locked,
		// so starting it anywhere else fails, as ESXi's power-on does.
		if locked && host != nil && holder != host.Self.Value {
			h.record(logEntry{Op: "start", VM: vm.Name, Host: host.Name, Error: "FileLocked: " + vmx + " is locked by " + nameOf(types.ManagedObjectReference{Type: "HostSystem", Value: holder})})
			h.failTask(w, method, vm, &types.FileLocked{FileFault: types.FileFault{File: vmx}})
			return true
		}
		if running := h.runningElsewhere(vm); running != "" {
			h.mu.Lock()
			h.errors = append(h.errors, logEntry{T: now(), Op: "start", VM: vm.Name, Host: hostName(vm), Error: "already running on " + running})
			h.mu.Unlock()
		}
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			h.record(logEntry{Op: "start", VM: vm.Name, Host: hostName(vm)})
		}
		return false
	}
	return false
}

// failTask answers the call with a task that failed with fault, as vCenter reports refusals of *_Task methods.
func (h *harness) failTask(w http.ResponseWriter, method string, entity mo.Reference, fault types.BaseMethodFault) {
	name := strings.TrimSuffix(method, "_Task")
	task := simulator.CreateTask(entity, lcFirst(name), func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, fault })
	writeTask(w, method, task.Run())
}

func lcFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// runningElsewhere names the host where another registration of vm's .vmx really runs, if any.
func (h *harness) runningElsewhere(vm *simulator.VirtualMachine) string {
	vmx := vmxOf(vm)
	for _, other := range allVMs() {
		if other.Self == vm.Self || vmxOf(other) != vmx {
			continue
		}
		if other.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && h.modeOf(other.Runtime.Host) != hostModeDead {
			return hostName(other)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if holder, ok := h.locks[vmx]; ok && (vm.Runtime.Host == nil || vm.Runtime.Host.Value != holder) {
		return nameOf(types.ManagedObjectReference{Type: "HostSystem", Value: holder})
	}
	return ""
}

func (h *harness) modeOf(ref *types.ManagedObjectReference) string {
	if ref == nil {
		return hostModeUp
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if m, ok := h.hostMode[ref.Value]; ok {
		return m
	}
	return hostModeUp
}

func hostName(vm *simulator.VirtualMachine) string {
	if vm.Runtime.Host == nil {
		return ""
	}
	return nameOf(*vm.Runtime.Host)
}

func datastoreOfPath(p string) string {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "[") {
		if i := strings.Index(p, "]"); i > 0 {
			return p[1:i]
		}
	}
	return ""
}

func xmlText(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func (h *harness) record(e logEntry) {
	e.T = now()
	h.mu.Lock()
	h.log = append(h.log, e)
	h.mu.Unlock()
}

// after repairs what vcsim left undone once it answered.
func (h *harness) after(method string, call *soapCall) {
	switch method {
	case "RelocateVM_Task", "MigrateVM_Task":
		// vcsim bug: RelocateVM_Task leaves HostSystem.vm stale on both hosts.
		syncHostVMLists()
	case "EnterMaintenanceMode_Task", "ExitMaintenanceMode_Task":
		// vcsim sets the flag by a direct write, which WaitForUpdatesEx never sees; vCenter notifies it.
		if host, ok := simulator.Map.Get(call.This.ref()).(*simulator.HostSystem); ok {
			simulator.Map.WithLock(host, func() {
				simulator.Map.Update(host, []types.PropertyChange{
					{Name: "runtime.inMaintenanceMode", Val: host.Runtime.InMaintenanceMode},
				})
			})
		}
	case "RegisterVM_Task":
		// vcsim bug: a ContainerView learns of a new VM before the VM is in its pool and host lists,
		// so views created earlier never show it. Announcing it again once it is in place fixes that.
		for _, vm := range allVMs() {
			if vmxOf(vm) == strings.TrimSpace(call.Path) {
				simulator.Map.Put(vm)
			}
		}
	case "PowerOffVM_Task":
		if vm, ok := simulator.Map.Get(call.This.ref()).(*simulator.VirtualMachine); ok {
			h.record(logEntry{Op: "poweroff", VM: vm.Name, Host: hostName(vm)})
		}
	}
}

// syncHostVMLists rebuilds every HostSystem.vm from the VMs' runtime.host.
func syncHostVMLists() {
	lists := map[types.ManagedObjectReference][]types.ManagedObjectReference{}
	for _, vm := range allVMs() {
		if vm.Runtime.Host != nil {
			lists[*vm.Runtime.Host] = append(lists[*vm.Runtime.Host], vm.Self)
		}
	}
	for _, host := range allHosts() {
		want := lists[host.Self]
		if reflect.DeepEqual(refSet(want), refSet(host.Vm)) {
			continue
		}
		simulator.Map.WithLock(host, func() {
			simulator.Map.Update(host, []types.PropertyChange{{Name: "vm", Val: want}})
		})
	}
}

func refSet(refs []types.ManagedObjectReference) map[types.ManagedObjectReference]bool {
	out := map[types.ManagedObjectReference]bool{}
	for _, r := range refs {
		out[r] = true
	}
	return out
}

// ---------------------------------------------------------------------------
// Control API (plain HTTP, JSON). Names may be inventory names or moids.

func (h *harness) controlMux() http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v interface{}, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	ok := map[string]bool{"ok": true}
	mux.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) { reply(w, h.state(), nil) })
	mux.HandleFunc("/calls", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		out := map[string]int{}
		for k, v := range h.calls {
			out[k] = v
		}
		if r.Method == http.MethodPost || r.URL.Query().Get("reset") == "1" {
			h.calls = map[string]int{}
		}
		h.mu.Unlock()
		reply(w, out, nil)
	})
	mux.HandleFunc("/hosts/fail", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		reply(w, ok, h.failHost(q.Get("name"), q.Get("mode"), q.Get("state")))
	})
	mux.HandleFunc("/hosts/recover", func(w http.ResponseWriter, r *http.Request) {
		reply(w, ok, h.recoverHost(r.URL.Query().Get("name")))
	})
	mux.HandleFunc("/datastores/fail", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		reply(w, ok, setDatastore(q.Get("name"), q.Get("host"), false))
	})
	mux.HandleFunc("/datastores/recover", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		reply(w, ok, setDatastore(q.Get("name"), q.Get("host"), true))
	})
	mux.HandleFunc("/vms/set", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		reply(w, ok, setVM(q.Get("name"), q.Get("power"), q.Get("connection"), q.Get("host")))
	})
	mux.HandleFunc("/sessions/expire", func(w http.ResponseWriter, r *http.Request) {
		n, err := h.expireSessions()
		reply(w, map[string]int{"expired": n}, err)
	})
	mux.HandleFunc("/faults/inject", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		count := -1
		if c := q.Get("count"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n == 0 {
				reply(w, nil, fmt.Errorf("count must be a positive number"))
				return
			}
			count = n
		}
		if q.Get("method") == "" || q.Get("fault") == "" {
			reply(w, nil, fmt.Errorf("give method and fault"))
			return
		}
		h.mu.Lock()
		h.faults = append(h.faults, &injectedFault{Method: q.Get("method"), Fault: q.Get("fault"), This: q.Get("this"), Message: q.Get("message"), Left: count})
		h.mu.Unlock()
		reply(w, ok, nil)
	})
	mux.HandleFunc("/faults/clear", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.faults = nil
		h.delays = map[string]time.Duration{}
		h.unavailable = 0
		h.mu.Unlock()
		reply(w, ok, nil)
	})
	mux.HandleFunc("/latency", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ms, err := strconv.Atoi(q.Get("ms"))
		method := q.Get("method")
		if method == "" {
			method = "*"
		}
		if err == nil {
			h.mu.Lock()
			h.delays[method] = time.Duration(ms) * time.Millisecond
			h.mu.Unlock()
		}
		reply(w, ok, err)
	})
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("count"))
		if err == nil {
			h.mu.Lock()
			h.unavailable = n
			h.mu.Unlock()
		}
		reply(w, ok, err)
	})
	return mux
}

func (h *harness) failHost(name, mode, state string) error {
	host, _ := find("HostSystem", name).(*simulator.HostSystem)
	if host == nil {
		return fmt.Errorf("no host %q", name)
	}
	if mode == "" {
		mode = hostModeDead
	}
	if mode != hostModeDead && mode != hostModePartition {
		return fmt.Errorf("mode must be dead or partition")
	}
	cs := types.HostSystemConnectionStateNotResponding
	if state == "disconnected" {
		cs = types.HostSystemConnectionStateDisconnected
	}
	simulator.Map.WithLock(host, func() {
		simulator.Map.Update(host, []types.PropertyChange{
			{Name: "runtime.connectionState", Val: cs},
			{Name: "runtime.powerState", Val: types.HostSystemPowerStateUnknown},
			{Name: "summary.runtime.connectionState", Val: cs},
			{Name: "overallStatus", Val: types.ManagedEntityStatusRed},
		})
	})
	h.mu.Lock()
	h.hostMode[host.Self.Value] = mode
	h.mu.Unlock()
	// vCenter keeps the last power state it knew for the VMs of a host it lost, and marks them disconnected.
	for _, vm := range allVMs() {
		if vm.Runtime.Host == nil || *vm.Runtime.Host != host.Self {
			continue
		}
		if mode == hostModePartition && vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			h.mu.Lock()
			h.locks[vmxOf(vm)] = host.Self.Value
			h.mu.Unlock()
		}
		simulator.Map.WithLock(vm, func() {
			simulator.Map.Update(vm, []types.PropertyChange{
				{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionStateDisconnected},
				{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionStateDisconnected},
			})
		})
	}
	h.record(logEntry{Op: "fail-host:" + mode, Host: host.Name})
	return nil
}

func (h *harness) recoverHost(name string) error {
	host, _ := find("HostSystem", name).(*simulator.HostSystem)
	if host == nil {
		return fmt.Errorf("no host %q", name)
	}
	h.mu.Lock()
	mode := h.hostMode[host.Self.Value]
	delete(h.hostMode, host.Self.Value)
	for vmx, holder := range h.locks {
		if holder == host.Self.Value {
			delete(h.locks, vmx)
		}
	}
	h.mu.Unlock()
	simulator.Map.WithLock(host, func() {
		simulator.Map.Update(host, []types.PropertyChange{
			{Name: "runtime.connectionState", Val: types.HostSystemConnectionStateConnected},
			{Name: "runtime.powerState", Val: types.HostSystemPowerStatePoweredOn},
			{Name: "summary.runtime.connectionState", Val: types.HostSystemConnectionStateConnected},
			{Name: "overallStatus", Val: types.ManagedEntityStatusGreen},
		})
	})
	for _, vm := range allVMs() {
		if vm.Runtime.Host == nil || *vm.Runtime.Host != host.Self {
			continue
		}
		changes := []types.PropertyChange{
			{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionStateConnected},
			{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionStateConnected},
		}
		if mode == hostModeDead {
			// The host rebooted: whatever ran on it is off now.
			changes = append(changes,
				types.PropertyChange{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
				types.PropertyChange{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff})
		}
		simulator.Map.WithLock(vm, func() { simulator.Map.Update(vm, changes) })
	}
	h.record(logEntry{Op: "recover-host", Host: host.Name})
	return nil
}

func setDatastore(name, hostKey string, accessible bool) error {
	ds, _ := find("Datastore", name).(*simulator.Datastore)
	if ds == nil {
		return fmt.Errorf("no datastore %q", name)
	}
	var only *simulator.HostSystem
	if hostKey != "" {
		only, _ = find("HostSystem", hostKey).(*simulator.HostSystem)
		if only == nil {
			return fmt.Errorf("no host %q", hostKey)
		}
	}
	simulator.Map.WithLock(ds, func() {
		mounts := make([]types.DatastoreHostMount, 0, len(ds.Host))
		anyAccessible := false
		for _, mnt := range ds.Host {
			acc := mnt.MountInfo.Accessible == nil || *mnt.MountInfo.Accessible
			if only == nil || mnt.Key == only.Self {
				acc = accessible
			}
			mounts = append(mounts, mount(mnt.Key, mnt.MountInfo.Path, acc))
			anyAccessible = anyAccessible || acc
		}
		status := types.ManagedEntityStatusGreen
		if !anyAccessible {
			status = types.ManagedEntityStatusRed
		} else if !accessible {
			status = types.ManagedEntityStatusYellow
		}
		simulator.Map.Update(ds, []types.PropertyChange{
			{Name: "host", Val: mounts},
			{Name: "summary.accessible", Val: anyAccessible},
			{Name: "overallStatus", Val: status},
		})
	})
	return nil
}

func setVM(name, power, connection, hostKey string) error {
	vm, _ := find("VirtualMachine", name).(*simulator.VirtualMachine)
	if vm == nil {
		return fmt.Errorf("no VM %q", name)
	}
	var changes []types.PropertyChange
	if power != "" {
		ps := types.VirtualMachinePowerState(power)
		changes = append(changes, types.PropertyChange{Name: "runtime.powerState", Val: ps}, types.PropertyChange{Name: "summary.runtime.powerState", Val: ps})
	}
	if connection != "" {
		cs := types.VirtualMachineConnectionState(connection)
		changes = append(changes, types.PropertyChange{Name: "runtime.connectionState", Val: cs}, types.PropertyChange{Name: "summary.runtime.connectionState", Val: cs})
	}
	if hostKey != "" {
		host, _ := find("HostSystem", hostKey).(*simulator.HostSystem)
		if host == nil {
			return fmt.Errorf("no host %q", hostKey)
		}
		r1, r2 := host.Self, host.Self
		changes = append(changes, types.PropertyChange{Name: "runtime.host", Val: &r1}, types.PropertyChange{Name: "summary.runtime.host", Val: &r2})
	}
	simulator.Map.WithLock(vm, func() { simulator.Map.Update(vm, changes) })
	if hostKey != "" {
		syncHostVMLists()
	}
	return nil
}

// expireSessions ends every SOAP session (as vCenter does when sessions time
// out or an administrator terminates them), through vcsim's own TerminateSession.
func (h *harness) expireSessions() (int, error) {
	sm := simulator.Map.SessionManager()
	keys := reflect.ValueOf(sm).Elem().FieldByName("sessions").MapKeys()
	if len(keys) == 0 {
		return 0, nil
	}
	user, pass := "vigil-harness", "x"
	if h.user != nil {
		user = h.user.Username()
		pass, _ = h.user.Password()
	}
	envelope := func(inner string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` + inner + `</soapenv:Body></soapenv:Envelope>`
	}
	do := func(body string, cookie *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(envelope(body)))
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.mux.ServeHTTP(rec, req)
		return rec
	}
	login := do(`<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>`+xmlText(user)+`</userName><password>`+xmlText(pass)+`</password></Login>`, nil)
	var admin *http.Cookie
	for _, c := range login.Result().Cookies() {
		if c.Name == "vmware_soap_session" {
			admin = c
		}
	}
	if admin == nil {
		return 0, fmt.Errorf("harness login failed (%d)", login.Code)
	}
	n := 0
	for _, k := range keys {
		id := k.String()
		if id == admin.Value {
			continue
		}
		res := do(`<TerminateSession xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><sessionId>`+xmlText(id)+`</sessionId></TerminateSession>`, admin)
		if res.Code == http.StatusOK {
			n++
		}
	}
	do(`<Logout xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this></Logout>`, admin)
	return n, nil
}

type hostState struct {
	Name        string `json:"name"`
	Moid        string `json:"moid"`
	Connection  string `json:"connectionState"`
	Power       string `json:"powerState"`
	Maintenance bool   `json:"maintenance"`
	Mode        string `json:"mode"`
	VMs         int    `json:"vms"`
}

type vmState struct {
	Name         string `json:"name"`
	Moid         string `json:"moid"`
	InstanceUUID string `json:"instanceUuid"`
	Host         string `json:"host"`
	Power        string `json:"powerState"`
	Connection   string `json:"connectionState"`
	Vmx          string `json:"vmx"`
	// ReallyRunning is the truth behind vCenter's view: on a dead host nothing runs, whatever vCenter last knew.
	ReallyRunning bool `json:"reallyRunning"`
}

type dsState struct {
	Name         string          `json:"name"`
	Moid         string          `json:"moid"`
	Accessible   bool            `json:"accessible"`
	Type         string          `json:"type"`
	Mounts       map[string]bool `json:"mounts"`
	CapacityByte int64           `json:"capacity"`
	FreeByte     int64           `json:"freeSpace"`
}

func (h *harness) state() map[string]interface{} {
	var hosts []hostState
	for _, host := range allHosts() {
		hosts = append(hosts, hostState{Name: host.Name, Moid: host.Self.Value, Connection: string(host.Runtime.ConnectionState), Power: string(host.Runtime.PowerState), Maintenance: host.Runtime.InMaintenanceMode, Mode: h.modeOf(&host.Self), VMs: len(host.Vm)})
	}
	var vms []vmState
	for _, vm := range allVMs() {
		uuid := ""
		if vm.Config != nil {
			uuid = vm.Config.InstanceUuid
		}
		running := vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && h.modeOf(vm.Runtime.Host) != hostModeDead
		vms = append(vms, vmState{Name: vm.Name, Moid: vm.Self.Value, InstanceUUID: uuid, Host: hostName(vm), Power: string(vm.Runtime.PowerState), Connection: string(vm.Runtime.ConnectionState), Vmx: vmxOf(vm), ReallyRunning: running})
	}
	var dss []dsState
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		mounts := map[string]bool{}
		for _, mnt := range ds.Host {
			mounts[nameOf(mnt.Key)] = mnt.MountInfo.Accessible == nil || *mnt.MountInfo.Accessible
		}
		dss = append(dss, dsState{Name: ds.Name, Moid: ds.Self.Value, Accessible: ds.Summary.Accessible, Type: ds.Summary.Type, Mounts: mounts, CapacityByte: ds.Summary.Capacity, FreeByte: ds.Summary.FreeSpace})
	}
	sort.Slice(dss, func(i, j int) bool { return dss[i].Name < dss[j].Name })
	h.mu.Lock()
	defer h.mu.Unlock()
	locks := map[string]string{}
	for vmx, holder := range h.locks {
		locks[vmx] = nameOf(types.ManagedObjectReference{Type: "HostSystem", Value: holder})
	}
	logCopy := append([]logEntry{}, h.log...)
	errCopy := append([]logEntry{}, h.errors...)
	var clusters []map[string]string
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c := e.(*simulator.ClusterComputeResource)
		clusters = append(clusters, map[string]string{"name": c.Name, "moid": c.Self.Value})
	}
	return map[string]interface{}{"hosts": hosts, "vms": vms, "datastores": dss, "clusters": clusters, "locks": locks, "log": logCopy, "errors": errCopy, "vcsimPanics": h.panics}
}
