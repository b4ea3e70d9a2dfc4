;; Sums of rows by segment, out[s] = the sum of x[i mod period] over every i
;; with ids[i] = s (rows `cols` floats long, float32): with period = count, the
;; wasm backend's UnsortedSegmentSum, which tfjs does not have there (it is the
;; gradient of a gather, so without it an embedding lookup could not be a
;; gather); with a shorter period, the gradient of summedRows, where each of x's
;; rows was the sum of several table rows. Rows are added in order i = 0, 1, ...
;; (the order a one-hot product's gradient adds them in). Returns the position
;; of the first id out of [0, segments), or -1 when all are in range.
;; Built into segmentSumWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "segmentSum") (param $x i32) (param $ids i32) (param $out i32) (param $count i32) (param $segments i32) (param $cols i32) (param $period i32) (result i32)
    (local $i i32) (local $r i32) (local $s i32) (local $j i32) (local $rb i32) (local $src i32) (local $dst i32) (local $wide i32)
    (local.set $rb (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $wide (i32.and (local.get $cols) (i32.const -4)))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (local.get $segments) (local.get $rb)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $s (i32.load (i32.add (local.get $ids) (i32.shl (local.get $i) (i32.const 2)))))
        ;; unsigned: a negative id is out of range too
        (if (i32.ge_u (local.get $s) (local.get $segments)) (then (return (local.get $i))))
        (local.set $src (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rb))))
        (local.set $dst (i32.add (local.get $out) (i32.mul (local.get $s) (local.get $rb))))
        (local.set $j (i32.const 0))
        ;; four at a time, then one by one
        (block $wide_done
          (loop $wide_cols
            (br_if $wide_done (i32.ge_u (local.get $j) (local.get $wide)))
            (v128.store align=4 (local.get $dst) (f32x4.add (v128.load align=4 (local.get $dst)) (v128.load align=4 (local.get $src))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $wide_cols)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $j) (local.get $cols)))
            (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        ;; the next source row, wrapping at the period
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (if (i32.eq (local.get $r) (local.get $period)) (then (local.set $r (i32.const 0))))
        (br $rows)))
    (i32.const -1)))
