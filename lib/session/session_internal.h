/* SPDX-License-Identifier: Apache-2.0 */
/* Internal view of a quantization session. */
#ifndef RQ_SESSION_SESSION_INTERNAL_H
#define RQ_SESSION_SESSION_INTERNAL_H

#include "session/plan.h"

#include <razorq/exec.h>
#include <razorq/fakequant.h>
#include <razorq/session.h>

typedef enum rq__session_state {
  RQ__SESSION_PREPARED,   /* observers on: calibrate / observe */
  RQ__SESSION_CONVERTED,  /* observers off, qparams fixed: run / export */
} rq__session_state;

/* One place with a fake-quant, by edge name so it survives graph rewrites. */
typedef struct rq__session_point {
  char *edge;             /* value name */
  bool is_weight;
  int ch_axis;
  int fq;                 /* index into fake_quants (shared points share it) */
  rq__qdtype qdtype;
  int bit;
} rq__session_point;

/* A copy of one calibration batch (bias_correction.c). */
typedef struct rq__kept_batch {
  DLTensor *inputs;
  size_t n_inputs;
} rq__kept_batch;

struct rq_session {
  rq_graph *graph;        /* the prepared float model (BN folded) */
  rq_graph *fq_graph;     /* the same with fake-quantized weights: what calibration and run execute */
  rq__session_point *points;
  int n_points;
  rq_fake_quant **fake_quants;
  int n_fake_quants;
  const char **hook_edges; /* activation edges, for the executor's hook */
  int *hook_fq;            /* their fake-quant, in the same order */
  size_t n_hook_edges;
  char **notes;
  int n_notes;
  char *backend_name;
  char *export_format;
  bool int32_bias;
  bool calibrate_with_fake_quant;
  bool bias_correction;    /* config "bias_correction": correct biases at convert */
  rq__adaround_options adaround; /* config "reconstruction", for AdaRoundFakeQuantize weights */
  bool keep_batches;       /* bias correction or AdaRound: keep the calibration batches */
  rq_progress_fn progress; /* rq_session_set_progress */
  void *progress_user;
  rq__kept_batch *kept;    /* the calibration batches, kept for it until convert */
  size_t n_kept;
  long long calibrate_steps, calibrate_batch_size;
  rq__session_state state;
  uint64_t batches_seen;
  bool qparams_from_table; /* converted by rq_session_load_calibration, not by observing */
  uint64_t model_fingerprint; /* of the graph given to prepare */
  uint64_t config_hash;       /* of the quantizer's config */
};

/* bias_correction.c: keep a copy of a calibration batch; at convert, shift
 * each Conv/Gemm bias by the mean difference between float and quantized
 * outputs on the kept batches; free the batches. */
rq_status rq__session_keep_batch(rq_session *s, const DLTensor *inputs, size_t n_inputs);
rq_status rq__session_correct_biases(rq_session *s);
/* Runs g over every kept batch, `hook` watching the `extra` edges and, when
 * `activations`, the session's fake-quantized activation edges (the hook
 * then applies their fake-quants: the executor only shows it the edges).
 * A hook that has seen all it needs of a batch may set *stopped (when not
 * NULL) and fail: the rest of that batch's run is skipped, not an error. */
rq_status rq__session_run_kept(rq_session *s, const rq_graph *g, rq_edge_hook hook, void *user, bool activations,
                               const char *const *extra, size_t n_extra, bool *stopped);
void rq__session_drop_batches(rq_session *s);
/* Whether node n of g (a graph with the session's value names) gets its bias
 * corrected: a Conv, or Gemm with beta 1, whose weight has a fake-quant and
 * whose bias is a 1-D float initializer with one value per output channel
 * that no other node reads. Returns
 * the bias's value id in g (-1 when the node does not qualify) and its
 * channel count. */
/* adaround.c: whether a weight's fake-quant is an AdaRoundFakeQuantize; at
 * convert, learn those weights' rounding layer by layer on the kept batches
 * (fq_graph only; notes the reconstruction errors). */
bool rq__session_uses_adaround(const rq_session *s);
rq_status rq__session_adaround(rq_session *s, const rq__adaround_options *options);

/* The value id in g (a graph with the session's names) of node n's weight
 * when AdaRound rounds it, else -1. */
int rq__session_rounded_weight(const rq_session *s, const rq_graph *g, int n);
/* session.c: stores every weight fake-quantized (round to nearest) in
 * fq_graph. */
rq_status rq__session_quantize_weights(rq_session *s);
/* session.c: appends a note (rq_session_note). */
rq_status rq__session_add_note(rq_session *s, const char *text);

/* A hook's fake-quant of an edge value, in place: float32 directly,
 * float16/bfloat16 in float32 and rounded back (as the export's
 * Cast -> Q -> DQ -> Cast), float64 left alone (never planned). Every
 * hook that fake-quantizes goes through this, so they all agree. */
rq_status rq__session_fake_quant_edge(rq_fake_quant *fq, DLTensor *value);
/* session.c: what convert adjusted in fq_graph (corrected biases, rounded
 * weights), copied out while something may still fail, then committed to
 * the float graph (export and calibration tables read them there); or, on
 * failure, fq_graph put back as prepare left it. */
typedef struct rq__adjusted rq__adjusted;
/* Value id in s->graph of every initializer convert adjusts at node n: its
 * corrected bias and its rounded weight (-1 where none). */
void rq__session_adjusted_at(const rq_session *s, int n, int ids[2]);
rq_status rq__session_collect_adjusted(const rq_session *s, rq__adjusted **out, size_t *n_out);
void rq__session_commit_adjusted(rq__adjusted *list, size_t n);
void rq__session_free_adjusted(rq__adjusted *list, size_t n);
void rq__session_restore_fq_graph(rq_session *s);

int rq__session_correctable_bias(const rq_session *s, const rq_graph *g, int n, size_t *channels);

#endif
