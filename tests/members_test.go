package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/local"
)

// memberTwin is a twin of a central stack of the test's own with the two
// member accounts and a writer ExternalId of the test's own.
func memberTwin(t *testing.T) (*local.Twin, string) {
	t.Helper()
	stack := awstest.Name(t, "central")
	externalID := "ext-" + stack
	tw, err := local.New(t.Context(), newConfig(t, motoURL), local.Config{
		Template:        "../template.yaml",
		MemberOverrides: map[string]string{"LogGroupNames": "/" + stack + "/api,/" + stack + "/worker"},
		StackName:       stack,
		Overrides: map[string]string{
			"MemberAccountIds": memberA + "," + memberB, "WriterExternalId": externalID,
			"AlarmEmail": "oncall@example.com", "NotifyOnOk": "false",
		},
		Period: time.Second,
	})
	require.NoError(t, err)
	return tw, externalID
}

// TestPathAWriterAssumesTheRole writes from a member account into the
// central account's watched group through the writer role, as Path A
// does: the lines become incidents of the central account; a wrong
// ExternalId, an account the role does not trust and a group it does not
// cover are refused.
func TestPathAWriterAssumesTheRole(t *testing.T) {
	ctx := t.Context()
	tw, externalID := memberTwin(t)
	dep := tw.Deployment()
	require.Len(t, dep.Members, 2)
	assert.Equal(t, memberA, dep.Members[0].AccountID)
	assert.NotEmpty(t, dep.WriterRole)

	_, err := tw.CrossAccountWriter(ctx, memberA, "wrong", dep.LogGroup, "a")
	assert.ErrorContains(t, err, "requires its ExternalId")
	_, err = tw.CrossAccountWriter(ctx, "333333333333", externalID, dep.LogGroup, "a")
	assert.ErrorContains(t, err, "not a member account")
	_, err = tw.CrossAccountWriter(ctx, memberA, externalID, dep.ProcessorLogGroup, "a")
	assert.ErrorContains(t, err, "may write only into the watched log groups")

	w, err := tw.CrossAccountWriter(ctx, memberB, externalID, dep.LogGroup, "member-b/app")
	require.NoError(t, err)
	require.NoError(t, w.WriteLines(ctx, []string{"ERROR payment 17 declined", "INFO fine", "ERROR payment 18 declined"}))
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	require.Len(t, res.Incidents, 1)
	inc := res.Incidents[0]
	assert.EqualValues(t, 2, inc.Occurrences)
	assert.Equal(t, dep.LogGroup, inc.LogGroup)
	assert.Equal(t, dep.AccountID, inc.AccountID, "the lines are in the central account's group")
	assert.True(t, strings.HasPrefix(inc.SampleMessage, "ERROR payment"), inc.SampleMessage)
}

// TestPathBMembersThroughKinesis writes error lines in both member
// accounts' groups: their subscription filters deliver to the central
// destination, which puts them on the stream, whose event source mapping
// invokes the processor; each account gets its incidents, with its id.
func TestPathBMembersThroughKinesis(t *testing.T) {
	ctx := t.Context()
	tw, _ := memberTwin(t)
	dep := tw.Deployment()
	require.NotEmpty(t, dep.Stream)
	require.Len(t, dep.Members, 2)
	for i, m := range dep.Members {
		require.Len(t, m.LogGroups, 2)
		w, err := tw.MemberWriter(m.AccountID, m.LogGroups[i], "app/1")
		require.NoError(t, err)
		require.NoError(t, w.WriteLines(ctx, []string{"ERROR order 1 lost", "INFO fine", "ERROR order 2 lost", "FATAL disk 9 full"}))
	}
	_, err := tw.MemberWriter("333333333333", "/x", "y")
	assert.ErrorContains(t, err, "not a member account")
	require.NoError(t, tw.Run(ctx))
	res, err := tw.Result(ctx)
	require.NoError(t, err)
	require.NotNil(t, res.PathB)
	assert.Equal(t, 6, res.PathB.Subscriptions.Matched, "three lines of each account match the member filter")
	assert.Equal(t, 2, res.PathB.Destination.Deliveries, "one record per member log stream")
	assert.Equal(t, 2, res.PathB.Kinesis.Processed)
	assert.Zero(t, res.PathB.Kinesis.Failed)
	assert.Zero(t, res.Deliveries.Matched, "nothing reached the central groups")

	type key struct{ account, group string }
	got := map[key]int64{}
	for _, in := range res.Incidents {
		got[key{in.AccountID, in.LogGroup}] += in.Occurrences
	}
	assert.Equal(t, map[key]int64{
		{memberA, dep.Members[0].LogGroups[0]}: 3,
		{memberB, dep.Members[1].LogGroups[1]}: 3,
	}, got)
}
