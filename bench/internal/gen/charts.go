package gen

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"time"
)

// WriteChart writes the Helm chart tarball equivalent to s's artifact to
// w: Chart.yaml, values.yaml, a template, a README, the template
// package's files under files/ and the same payload as s's artifact,
// under the single top-level directory <name>/ that `helm package`
// writes, compressed as the artifact is. Its size is that of s's
// artifact within a few hundred bytes.
func WriteChart(w io.Writer, s Spec, opts Options) error {
	opts = opts.withDefaults()
	type file struct {
		name string
		data []byte
	}
	m := s.Manifest()
	files := []file{
		{"Chart.yaml", fmt.Appendf(nil, "apiVersion: v2\nname: %s\nversion: %s\nappVersion: %q\ndescription: %q\ntype: application\nkeywords:\n  - bench\nmaintainers:\n  - name: ebpfrepo bench\n    email: bench@example.org\nsources:\n  - %s\n",
			s.Name, s.Version, s.Version, m.Description, m.Source)},
		{"values.yaml", fmt.Appendf(nil, "image:\n  repository: example.org/ebpf-loader\n  tag: %q\n  pullPolicy: IfNotPresent\nprogram: %s\nresources:\n  limits:\n    memory: 128Mi\n", s.Version, s.Name)},
		{"templates/daemonset.yaml", []byte(daemonSet)},
		{"README.md", s.readme()},
		{PayloadFile, s.payload(opts.Seed)},
	}
	for _, f := range s.Template.Files {
		files = append(files, file{path.Join("files", f.Path), f.Data})
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	mtime := opts.ModTime.UTC().Truncate(time.Second)
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: s.Name + "/" + f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("chart %s: %w", s.ChartName(), err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return fmt.Errorf("chart %s: %w", s.ChartName(), err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("chart %s: %w", s.ChartName(), err)
	}
	return zw.Close()
}

const daemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Chart.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Chart.Name }}
    spec:
      hostNetwork: true
      containers:
        - name: loader
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args: ["--program", {{ .Values.program | quote }}]
          securityContext:
            privileged: true
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`
