package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/ebpfrepo/ebpfrepo/publish"
)

// Options configure New. The zero value means AWS's defaults.
type Options struct {
	// Endpoint is the S3 API's URL for an S3-compatible store
	// ("http://127.0.0.1:7070"); empty means AWS (or $AWS_ENDPOINT_URL_S3).
	Endpoint string
	// Region; empty means the SDK's (AWS_REGION, the profile), else
	// us-east-1.
	Region string
	// PathStyle addresses the bucket in the path rather than the host
	// name, as most S3-compatible stores want; set when Endpoint is.
	PathStyle bool
}

// Store is a bucket and prefix.
type Store struct {
	c      *s3.Client
	bucket string
	prefix string // "" or "dir/…/" (with the slash)
}

// New returns the store that s3://BUCKET[/PREFIX] names.
func New(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("%q: want s3://BUCKET or s3://BUCKET/PREFIX", rawURL)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("%s: AWS configuration: %w", rawURL, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle || opts.Endpoint != ""
		// Checksums only where the API requires them: many S3-compatible
		// stores reject the newer trailing-checksum uploads.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &Store{c: c, bucket: u.Host, prefix: prefix}, nil
}

func (s *Store) String() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *Store) key(k string) string { return s.prefix + k }

// Get returns an object; a missing one (NoSuchKey, or 403 as S3 answers
// for it without s3:ListBucket) is publish.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(key))})
	if err != nil {
		var nsk *types.NoSuchKey
		var ae smithy.APIError
		missing := errors.As(err, &nsk) || statusOf(err) == 404 ||
			statusOf(err) == 403 && errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied" // a bad key or signature is not "missing"
		if missing {
			return nil, fmt.Errorf("%s%s: %w", s, key, publish.ErrNotFound)
		}
		return nil, s.explain(err)
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, 256<<20))
}

// Put uploads one object.
func (s *Store) Put(ctx context.Context, key string, body io.ReadSeeker, size int64, meta publish.Meta) error {
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(key)), Body: body, ContentLength: aws.Int64(size)}
	if meta.CacheControl != "" {
		in.CacheControl = aws.String(meta.CacheControl)
	}
	if meta.ContentType != "" {
		in.ContentType = aws.String(meta.ContentType)
	}
	if meta.SHA256 != "" {
		in.Metadata = map[string]string{"sha256": meta.SHA256}
	}
	if _, err := s.c.PutObject(ctx, in); err != nil {
		return s.explain(err)
	}
	return nil
}

// Delete removes keys, a thousand per request.
func (s *Store) Delete(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		var ids []types.ObjectIdentifier
		for _, k := range keys[:n] {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(s.key(k))})
		}
		out, err := s.c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return s.explain(err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("%s: delete %s: %s: %s", s, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		keys = keys[n:]
	}
	return nil
}

func statusOf(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// explain says what an S3 error means for the person publishing.
func (s *Store) explain(err error) error {
	var ae smithy.APIError
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found"):
		return fmt.Errorf("%s: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with a role (GitHub Actions: aws-actions/configure-aws-credentials): %w", s, err)
	case errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "InvalidAccessKeyId" || ae.ErrorCode() == "SignatureDoesNotMatch"):
		return fmt.Errorf("%s: %s: the credentials in use may not write here: they need s3:PutObject, s3:GetObject and s3:DeleteObject on the bucket %s: %w", s, ae.ErrorCode(), s.bucket, err)
	case errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket":
		return fmt.Errorf("%s: no bucket %s: create it first (aws s3 mb s3://%s): %w", s, s.bucket, s.bucket, err)
	}
	return fmt.Errorf("%s: %w", s, err)
}

var _ publish.Store = (*Store)(nil)
