# Read by ctest after the discovered GoogleTest tests (tests/CMakeLists.txt): the statistically
# heavy tests, labelled `heavy`. They repeat code paths the rest of the suite covers, over many
# seeds or load points: 7 of 550 tests, 40-50% of the suite's test time (13-75 s each in the plain
# build), and a sanitizer multiplies that. The plain suite runs them all; .ci/run's sanitizer run
# skips them (ctest -LE) to keep CI under 40 minutes, keeping RandomEquivalence shard 0
# (50 generated scenarios). A renamed test here is silently unlabelled: rename it here too.
set_tests_properties(
  Sweep.HostLoadClosedFormFitsTheWilsonIntervalsTwiceOrHalfItDoesNot
  LongTable.WithPauseLoopExitingTheShapeOfLongsTable
  LongTable.WithoutPauseLoopExitingTicketCollapsesAndPvLocksStayAhead
  RcuGracePeriod.EveryGracePeriodEndsOverAGrid
  Shards/RandomEquivalence.GeneratedScenariosAreIdenticalBothWays/1
  Shards/RandomEquivalence.GeneratedScenariosAreIdenticalBothWays/2
  Shards/RandomEquivalence.GeneratedScenariosAreIdenticalBothWays/3
  Windows.TheUsersTwelveVcpuPvLockIsFoundByWindowNotByUniformPct
  ExploreShards.MergeIsTheLocalExploreByteForByteForStrategiesWithoutFeedback
  Lookahead.ScaleRunOf256VcpusFor100msHasNoViolation
  PROPERTIES LABELS heavy)

# A real single-node Slurm (munged, slurmctld, slurmd) around sweeps and explores the Sweep and
# ExploreShards tests run locally: labelled cluster, skipped by the sanitizer run like the heavy ones (70 s of it).
set_tests_properties(
  SweepSlurm.JobArrayOnARealSingleNodeSlurmEqualsTheLocalRun
  SweepSlurm.ScriptsQuotePathsAndTheirShardsMergeToTheLocalRun
  ExploreSlurm.JobArrayOnARealSingleNodeSlurmEqualsTheLocalExplore
  ExploreSlurm.ScriptsRunTheUsersExploreAndMergeToTheLocalOne
  PROPERTIES LABELS cluster)
