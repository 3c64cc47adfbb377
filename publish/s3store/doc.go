// Package s3store is the S3 medium of package publish: a bucket and key
// prefix on Amazon S3 or any store that speaks the S3 API (MinIO,
// versitygw, Ceph RGW, R2, GCS in S3 mode). Credentials come from the AWS
// SDK's standard chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
// AWS_PROFILE and the shared files, web identity (GitHub Actions OIDC),
// or an instance or task role.
package s3store
