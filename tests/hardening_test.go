package tests

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

// processorKeyStatement is the processor role's statement on LogsKey (nil
// when there is none).
func processorKeyStatement(t *samtemplate.Template) map[string]any {
	fn := t.Resources["ProcessorFunction"]
	stmts, _ := policyStatements(t, fn)
	for _, s := range stmts {
		if slices.ContainsFunc(strs(s["Action"]), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
			return s
		}
	}
	return nil
}

// keyStatement is LogsKey's key policy statement for the service principal
// (nil when there is none).
func keyStatement(t *samtemplate.Template, service string) map[string]any {
	stmts, _ := t.Resources["LogsKey"].Property("KeyPolicy.Statement")
	list, _ := stmts.([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		principal, _ := m["Principal"].(map[string]any)
		if slices.Contains(strs(principal["Service"]), service) {
			return m
		}
	}
	return nil
}

// checkProcessorKeyGrant: the key also encrypts the stack's log groups, so
// the processor may use it only through SNS and for the alerts topic.
func checkProcessorKeyGrant(t *samtemplate.Template) error {
	s := processorKeyStatement(t)
	if s == nil {
		return errors.New("ProcessorRole: no kms statement")
	}
	cond, _ := s["Condition"].(map[string]any)
	eq, _ := cond["StringEquals"].(map[string]any)
	var errs []error
	if via := strings.Join(strs(eq["kms:ViaService"]), ""); via != "sns.${AWS::Region}.amazonaws.com" {
		errs = append(errs, fmt.Errorf("ProcessorRole kms statement: kms:ViaService %q, want sns.${AWS::Region}.amazonaws.com", via))
	}
	if topic := eq["kms:EncryptionContext:aws:sns:topicArn"]; !assert.ObjectsAreEqual(ref("AlertsTopic"), topic) {
		errs = append(errs, fmt.Errorf("ProcessorRole kms statement: kms:EncryptionContext:aws:sns:topicArn %v, want !Ref AlertsTopic", topic))
	}
	return errors.Join(errs...)
}

// checkAlarmKeyGrant: CloudWatch may use the key for this stack's alarms
// only, as the topic policy already says.
func checkAlarmKeyGrant(t *samtemplate.Template) error {
	s := keyStatement(t, "cloudwatch.amazonaws.com")
	if s == nil {
		return errors.New("LogsKey: no cloudwatch.amazonaws.com statement")
	}
	cond, _ := s["Condition"].(map[string]any)
	eq, _ := cond["StringEquals"].(map[string]any)
	like, _ := cond["ArnLike"].(map[string]any)
	var errs []error
	if !assert.ObjectsAreEqual(ref("AWS::AccountId"), eq["aws:SourceAccount"]) {
		errs = append(errs, errors.New("LogsKey cloudwatch statement: no aws:SourceAccount condition"))
	}
	if arn := strings.Join(strs(like["aws:SourceArn"]), ""); !strings.Contains(arn, ":alarm:${AWS::StackName}-*") {
		errs = append(errs, fmt.Errorf("LogsKey cloudwatch statement: aws:SourceArn %q does not name the stack's alarms", arn))
	}
	return errors.Join(errs...)
}

// dataPolicies is what `sam delete` does with each resource that holds
// data: the incident history outlives the stack; the log groups, the key
// that encrypts them (a retained group whose key is deleted would be
// unreadable) and the dead-letter queue (whose messages only this stack's
// processor can take) go with it, and so does the central Kinesis stream
// (the processor's input, replayable only within its retention anyway).
var dataPolicies = map[string]string{
	"AWS::DynamoDB::Table": "Retain",
	"AWS::Logs::LogGroup":  "Delete",
	"AWS::KMS::Key":        "Delete",
	"AWS::SQS::Queue":      "Delete",
	"AWS::Kinesis::Stream": "Delete",
}

func checkDeletionPolicies(t *samtemplate.Template) error {
	var errs []error
	for typ, want := range dataPolicies {
		for _, r := range t.ResourcesOfType(typ) {
			if r.DeletionPolicy != want || r.UpdateReplacePolicy != want {
				errs = append(errs, fmt.Errorf("%s (%s): DeletionPolicy %q, UpdateReplacePolicy %q; want both %s",
					r.LogicalID, typ, r.DeletionPolicy, r.UpdateReplacePolicy, want))
			}
		}
	}
	return errors.Join(errs...)
}

// AlarmThreshold is substituted raw into the dashboard's JSON body: every
// value its pattern accepts must keep the body valid, and the values
// CloudFormation's Number type would take but JSON would not are refused.
func TestAlarmThresholdKeepsTheDashboardValid(t *testing.T) {
	for _, v := range []string{"1", "5", "2.5", "100", "999999999.999999"} {
		t.Run("accepts "+v, func(t *testing.T) {
			tmpl := loadRepoTemplate(t)
			require.NoError(t, tmpl.SetParameters(map[string]string{"AlarmThreshold": v}))
			_, dash := resolveDashboard(t, tmpl)
			want, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			annotations, _ := dash.Widgets[0].Properties["annotations"].(map[string]any)
			horizontal, _ := annotations["horizontal"].([]any)
			require.Len(t, horizontal, 1)
			assert.Equal(t, want, horizontal[0].(map[string]any)["value"])
		})
	}
	for _, v := range []string{"0", "0.5", "-1", "1e3", ".5", "1.", "+1", "NaN", "Infinity", " 1", "1,5", "0x10", ""} {
		t.Run("refuses "+strconv.Quote(v), func(t *testing.T) {
			assert.ErrorContains(t, loadRepoTemplate(t).SetParameters(map[string]string{"AlarmThreshold": v}), "parameter AlarmThreshold")
		})
	}
}

// DeployEmitter=false leaves out the emitter and its role, and nothing
// that is deployed refers to them.
func TestDeployEmitter(t *testing.T) {
	emitter := []string{"EmitterFunction", "EmitterRole"}
	for _, deploy := range []bool{true, false} {
		t.Run(strconv.FormatBool(deploy), func(t *testing.T) {
			tmpl := loadRepoTemplate(t)
			require.NoError(t, tmpl.SetParameters(map[string]string{"DeployEmitter": strconv.FormatBool(deploy)}))
			env := &samtemplate.Env{StackName: "logalert"}
			for _, id := range emitter {
				active, err := tmpl.Active(id, env)
				require.NoError(t, err)
				assert.Equal(t, deploy, active, id)
			}
			out, ok := tmpl.Outputs["EmitterFunctionName"]
			require.True(t, ok)
			shown, err := tmpl.Condition(out.Condition, env)
			require.NoError(t, err)
			assert.Equal(t, deploy, shown, "output EmitterFunctionName")
			for _, id := range tmpl.LogicalIDs() {
				if active, err := tmpl.Active(id, env); err != nil || !active || slices.Contains(emitter, id) {
					continue
				}
				for _, dep := range tmpl.References(tmpl.Resources[id]) {
					assert.NotContains(t, emitter, dep, "%s refers to %s", id, dep)
				}
			}
		})
	}
	assert.ErrorContains(t, loadRepoTemplate(t).SetParameters(map[string]string{"DeployEmitter": "no"}), "parameter DeployEmitter")
}

// Every function is built by its CodeUri's Makefile (BuildMethod:
// makefile), whose target builds a static binary whatever CGO_ENABLED the
// environment holds. The control build shows that a plain `go build` with
// cgo on (what the go1.x builder does on a Linux host of the function's
// architecture) would not be static, so the check can fail.
func TestLambdaBinariesAreStatic(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	fns := functions(tmpl)
	require.NotEmpty(t, fns)
	for _, fn := range fns {
		t.Run(fn.LogicalID, func(t *testing.T) {
			assert.Equal(t, "makefile", fn.Metadata["BuildMethod"], "Metadata.BuildMethod")
			dir, _ := fn.Properties["CodeUri"].(string)
			mk, err := os.ReadFile(filepath.Join("..", dir, "Makefile"))
			require.NoError(t, err, "CodeUri %s has no Makefile", dir)
			target := "build-" + fn.LogicalID
			require.Contains(t, string(mk), "\n"+target+":")

			// sam build runs the target with ARTIFACTS_DIR set; the host's
			// architecture is where cgo would be on by default.
			out := t.TempDir()
			cmd := exec.CommandContext(t.Context(), "make", "--no-print-directory", target,
				"ARTIFACTS_DIR="+out, "LAMBDA_ARCH="+runtime.GOARCH)
			cmd.Dir = filepath.Join("..", dir)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
			msg, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", msg)
			assert.NoError(t, staticELF(filepath.Join(out, "bootstrap")))
		})
	}
	t.Run("control: go build with cgo on is dynamic", func(t *testing.T) {
		if _, err := exec.LookPath("gcc"); err != nil {
			t.Skip("no C compiler: cgo cannot be on, so there is no dynamic build to compare with")
		}
		bin := filepath.Join(t.TempDir(), "bootstrap")
		cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./emitter")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		msg, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", msg)
		assert.Error(t, staticELF(bin))
	})
}

// staticELF returns an error unless path is a Linux ELF executable with no
// program interpreter and no shared library dependencies.
func staticELF(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%s: OS ABI %v", path, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp, _ := readAll(p)
			return fmt.Errorf("%s: dynamically linked (interpreter %s)", path, interp)
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		return fmt.Errorf("%s: needs shared libraries %v", path, libs)
	}
	return nil
}

func readAll(p *elf.Prog) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(p.Open())
	return strings.TrimRight(b.String(), "\x00"), err
}

// The alarms on what a storm or a fault can lose without another sign
// watch what the template really has: the index by its name, the queue
// before its retention runs out, the backlog against MaxEventAgeSeconds.
func TestLossAlarmsWatchWhatExists(t *testing.T) {
	tmpl := loadRepoTemplate(t)
	prop := func(id, path string) any {
		t.Helper()
		r, err := tmpl.Resource(id)
		require.NoError(t, err)
		v, ok := r.Property(path)
		require.True(t, ok, "%s.%s", id, path)
		return v
	}

	var indexes []string
	gsis, _ := prop("IncidentsTable", "GlobalSecondaryIndexes").([]any)
	for _, g := range gsis {
		indexes = append(indexes, g.(map[string]any)["IndexName"].(string))
	}
	dims, _ := prop("IncidentsIndexThrottleAlarm", "Dimensions").([]any)
	var watched []string
	for _, d := range dims {
		if m := d.(map[string]any); m["Name"] == "GlobalSecondaryIndexName" {
			watched = append(watched, m["Value"].(string))
		}
	}
	assert.NotEmpty(t, watched)
	assert.Subset(t, indexes, watched, "the index alarm names an index of the table")

	retention, err := samtemplate.Int(prop("ProcessorDeadLetterQueue", "MessageRetentionPeriod"))
	require.NoError(t, err)
	age, err := samtemplate.Int(prop("DeadLetterAgeAlarm", "Threshold"))
	require.NoError(t, err)
	assert.Less(t, age, retention, "the age alarm fires before SQS deletes the message")
	assert.GreaterOrEqual(t, age, retention/2, "and not while there is still plenty of time")

	metrics, _ := prop("ProcessorEventAgeAlarm", "Metrics").([]any)
	var exprs []string
	for _, m := range metrics {
		exprs = append(exprs, strings.Join(strs(m.(map[string]any)["Expression"]), ""))
	}
	assert.Contains(t, strings.Join(exprs, " "), "${MaxEventAgeSeconds}", "the backlog is measured against MaxEventAgeSeconds")

	// Lambda keeps 100 of the default 1,000 unreserved.
	assert.NoError(t, loadRepoTemplate(t).SetParameters(map[string]string{"ProcessorReservedConcurrency": "900"}))
	assert.ErrorContains(t, loadRepoTemplate(t).SetParameters(map[string]string{"ProcessorReservedConcurrency": "901"}), "parameter ProcessorReservedConcurrency")
}
