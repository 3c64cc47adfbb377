package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Server is a running versitygw.
type Server struct {
	Endpoint       string // http://127.0.0.1:PORT
	Access, Secret string // the root account's keys
	Dir            string // the posix backend's directory: DIR/BUCKET/KEY
}

// Binary is where versitygw is: $VERSITYGW, else on $PATH, else in
// $(go env GOPATH)/bin.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw is not installed (make s3-server installs it; .ci/run does)")
}

// Start runs a versitygw until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Skipf("no S3-compatible server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	data, meta := filepath.Join(dir, "data"), filepath.Join(dir, "meta")
	os.MkdirAll(data, 0o755)
	os.MkdirAll(meta, 0o755)
	s := &Server{Endpoint: "http://" + addr, Access: "ebpfrepotest", Secret: "ebpfrepo-test-secret", Dir: data}
	cmd := exec.Command(bin, "--access", s.Access, "--secret", s.Secret, "--port", addr, "--quiet", "posix", "--sidecar", meta, data)
	var logb strings.Builder
	cmd.Stdout, cmd.Stderr = &logb, &logb
	if err := cmd.Start(); err != nil {
		t.Fatalf("versitygw: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatalf("versitygw did not listen on %s: %s", addr, logb.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	return s
}

// Env sets the AWS SDK's environment to the server's root keys for the
// rest of the test.
func (s *Server) Env(t testing.TB) {
	t.Setenv("AWS_ACCESS_KEY_ID", s.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Client is an S3 client with the root keys.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.Access, s.Secret, "")})
}

// Bucket creates a bucket; public lets anyone read its objects over
// plain HTTP (as a static host serves a repository).
func (s *Server) Bucket(t testing.TB, name string, public bool) {
	t.Helper()
	ctx := context.Background()
	c := s.Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	if public {
		pol := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, name)
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(pol)}); err != nil {
			t.Fatalf("bucket %s policy: %v", name, err)
		}
	}
}

// URL is the plain HTTP address of a bucket's prefix, for clients.
func (s *Server) URL(bucket, prefix string) string {
	return strings.TrimRight(s.Endpoint+"/"+bucket+"/"+strings.Trim(prefix, "/"), "/")
}
