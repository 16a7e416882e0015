// go run . N: Go's aws-sdk-go-v2 signer signs the five-request SigV4 workload N times each (the same
// requests as Sources/BenchmarkSupport/SigV4Workload.swift), printing each Authorization once and
// the wall time per signature.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type item struct {
	service, token, method, url string
	headers                     [][2]string
	body                        []byte
}

func main() {
	rounds := 10000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	token := "FQoGZXIvYXdzEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI"
	var query []string
	for i := 0; i < 10; i++ {
		query = append(query, fmt.Sprintf("filter%%5B%d%%5D=caf%%C3%%A9%%20%d%%2Bx", i, i))
	}
	put := make([]byte, 1024)
	for i := range put {
		put[i] = byte(i * 31)
	}
	dynamo := [][2]string{{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "DynamoDB_20120810.PutItem"}}
	for i := 0; i < 18; i++ {
		dynamo = append(dynamo, [2]string{fmt.Sprintf("X-Custom-Header-%d", i), fmt.Sprintf("value   %d with  spaces", i)})
	}
	items := []item{
		{"s3", "", "GET", "https://examplebucket.s3.amazonaws.com/photos/2015/test.jpg", [][2]string{{"Range", "bytes=0-1023"}}, nil},
		{"sts", token, "POST", "https://sts.amazonaws.com/", [][2]string{{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
			[]byte("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer&RoleSessionName=bench")},
		{"s3", "", "PUT", "https://examplebucket.s3.amazonaws.com/uploads/object.bin", [][2]string{{"Content-Type", "application/octet-stream"}}, put},
		{"execute-api", "", "GET", "https://abc123.execute-api.us-east-1.amazonaws.com/prod/items?" + strings.Join(query, "&"), nil, nil},
		{"dynamodb", "", "POST", "https://dynamodb.us-east-1.amazonaws.com/", dynamo,
			[]byte(`{"TableName":"Sigil","Item":{"id":{"S":"42"},"name":{"S":"benchmark"}}}`)},
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = false })
	s3signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	sign := func(it item) string {
		request, _ := http.NewRequest(it.method, it.url, bytes.NewReader(it.body))
		for _, h := range it.headers {
			request.Header.Add(h[0], h[1])
		}
		sum := sha256.Sum256(it.body)
		payload := hex.EncodeToString(sum[:])
		credentials := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: it.token}
		use := signer
		if it.service == "s3" {
			use = s3signer
			request.Header.Set("X-Amz-Content-Sha256", payload)
		}
		_ = use.SignHTTP(context.Background(), credentials, request, payload, it.service, "us-east-1", now)
		return request.Header.Get("Authorization")
	}
	start := time.Now()
	for r := 0; r < rounds; r++ {
		for _, it := range items {
			sign(it)
		}
	}
	elapsed := time.Since(start)
	for _, it := range items {
		fmt.Println(sign(it))
	}
	fmt.Printf("go ns/signature %d\n", elapsed.Nanoseconds()/int64(rounds*len(items)))
}
