package containers

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// The build contexts travel inside the binary, so a driver author running
// the suite's packages from their own module builds the same images.
//
//go:embed images
var buildContexts embed.FS

// Build names one local image: a build context under images/ and the
// repository its content-addressed tag goes in.
type Build struct {
	Dir  string // e.g. "images/postgres"
	Repo string // e.g. "pgwire-conformance/postgres17-pgvector"
	// HostCA adds this host's CA bundle to the build context as
	// host-ca.crt (see hostca.go); it does not enter the tag.
	HostCA bool
}

// PostgresBuild is the PostgreSQL 17 + pgvector reference server.
var PostgresBuild = Build{Dir: "images/postgres", Repo: "pgwire-conformance/postgres17-pgvector"}

// PythonBuild is the Python driver backend (backends/python); its build
// context gets the backend's source added by EnsureBackend.
var PythonBuild = Build{Dir: "images/python", Repo: "pgwire-conformance/python-backend"}

// NodeBuild is the Node.js driver backend (backends/node): its build
// context gets the backend's source added by EnsureBackend, and the host's
// CA bundle for npm (HostCA).
var NodeBuild = Build{Dir: "images/node", Repo: "pgwire-conformance/node-backend", HostCA: true}

// JavaBuild is the Java driver backend (backends/java, pgjdbc): its build
// context gets the backend's source added by EnsureBackend, compiled by
// javac in the image.
var JavaBuild = Build{Dir: "images/java", Repo: "pgwire-conformance/java-backend"}

// RustBuild is the Rust driver backend (backends/rust, tokio-postgres): its
// build context gets the backend's cargo package added by EnsureBackend,
// compiled offline against Debian's packaged crates in the image.
var RustBuild = Build{Dir: "images/rust", Repo: "pgwire-conformance/rust-backend"}

// PGWireBuild is iris-pgwire 1.0.1 in its own container (needs PyPI to build).
var PGWireBuild = Build{Dir: "images/iris-pgwire", Repo: "pgwire-conformance/iris-pgwire"}

// PgBouncerBuild is PgBouncer 1.24 (Debian trixie), the gateway target's
// wire server in front of the reference PostgreSQL.
var PgBouncerBuild = Build{Dir: "images/pgbouncer", Repo: "pgwire-conformance/pgbouncer"}

// PGliteBuild is PGlite behind pglite-socket (npm, pinned by its lock file).
var PGliteBuild = Build{Dir: "images/pglite", Repo: "pgwire-conformance/pglite", HostCA: true}

// Tag is the content address of the image: a hash of the build context and
// of the base image's ID, so any change to either makes a new tag and an
// unchanged one is reused without building.
func (b Build) Tag(baseID string) (string, error) {
	files, err := b.files()
	if err != nil {
		return "", err
	}
	return b.tag(files, baseID), nil
}

// tag is Tag for a build context of files, sorted by name.
func (b Build) tag(files []file, baseID string) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.name, len(f.data))
		h.Write(f.data)
	}
	h.Write([]byte(baseID))
	return b.Repo + ":" + hex.EncodeToString(h.Sum(nil))[:12]
}

type file struct {
	name string
	data []byte
	mode int64
}

func (b Build) files() ([]file, error) {
	var out []file
	err := fs.WalkDir(buildContexts, b.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := buildContexts.ReadFile(p)
		if err != nil {
			return err
		}
		mode := int64(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		out = append(out, file{name: strings.TrimPrefix(p, b.Dir+"/"), data: data, mode: mode})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read build context %s: %w", b.Dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("build context %s is empty", b.Dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func tarFiles(files []file) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: path.Clean(f.name), Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// ImageExists reports whether the engine has image ref locally.
func ImageExists(ctx context.Context, cli *testcontainers.DockerClient, ref string) (bool, string, error) {
	res, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return false, "", nil
		}
		return false, "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return true, res.ID, nil
}

// Ensure returns the image's tag, building it FROM base only when no image
// of that content exists yet. built says whether it had to build.
func (b Build) Ensure(ctx context.Context, cli *testcontainers.DockerClient, base string) (tag string, built bool, err error) {
	return b.ensure(ctx, cli, base, nil)
}

// ensure is Ensure with extra files added to the build context (and so to
// its content-addressed tag).
func (b Build) ensure(ctx context.Context, cli *testcontainers.DockerClient, base string, extra []file) (tag string, built bool, err error) {
	ok, baseID, err := ImageExists(ctx, cli, base)
	if err != nil {
		return "", false, err
	}
	if !ok {
		return "", false, fmt.Errorf("base image %s is missing and cannot be pulled here: run `make images` (scripts/build-base.sh) first", base)
	}
	files, err := b.files()
	if err != nil {
		return "", false, err
	}
	files = append(files, extra...)
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	tag = b.tag(files, baseID)
	if ok, _, err := ImageExists(ctx, cli, tag); err != nil || ok {
		return tag, false, err
	}
	if b.HostCA {
		ca, err := hostCABundle()
		if err != nil {
			return "", false, err
		}
		files = append(files, ca)
	}
	ctxTar, err := tarFiles(files)
	if err != nil {
		return "", false, err
	}
	res, err := cli.ImageBuild(ctx, ctxTar, client.ImageBuildOptions{
		Tags:        []string{tag},
		BuildArgs:   map[string]*string{"BASE": &base},
		Remove:      true,
		ForceRemove: true,
		// The classic builder uses a local base image without pulling it.
		Version: build.BuilderV1,
		Labels:  map[string]string{LabelSuite: "image"},
	})
	if err != nil {
		return "", false, fmt.Errorf("build %s: %w", tag, err)
	}
	defer res.Body.Close()
	if err := readBuildStream(res.Body); err != nil {
		return "", false, fmt.Errorf("build %s from %s: %w", tag, b.Dir, err)
	}
	return tag, true, nil
}

// readBuildStream drains the engine's JSON build log and returns its error,
// with the last lines of output for context.
func readBuildStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if s := strings.TrimSpace(msg.Stream); s != "" {
			tail = append(tail, s)
			if len(tail) > 5 {
				tail = tail[1:]
			}
		}
		if msg.Error != "" {
			return fmt.Errorf("%s (last output: %s)", msg.Error, strings.Join(tail, " | "))
		}
	}
}
