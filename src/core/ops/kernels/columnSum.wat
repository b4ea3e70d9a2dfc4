;; Column sums for the wasm backend: out[c] = x[0, c] + x[1, c] + ... + x[rows-1, c]
;; for a row-major float32 x [rows, cols], in the backend's own memory (pointers in
;; bytes). This is a sum over every axis but the last: every bias's gradient, every
;; layer norm's. tfjs's Sum transposes x to put those axes last first; this walks the
;; rows in place, 16 columns at a time in four SIMD registers.
;; Built into columnSumWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "colsum") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $j i32) (local $r i32) (local $p i32) (local $stride i32) (local $s f32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $j (i32.const 0))
    ;; 16 columns at a time
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $cols)))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $c2 (v128.const i32x4 0 0 0 0))
        (local.set $c3 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $c0 (f32x4.add (local.get $c0) (v128.load offset=0 align=4 (local.get $p))))
            (local.set $c1 (f32x4.add (local.get $c1) (v128.load offset=16 align=4 (local.get $p))))
            (local.set $c2 (f32x4.add (local.get $c2) (v128.load offset=32 align=4 (local.get $p))))
            (local.set $c3 (f32x4.add (local.get $c3) (v128.load offset=48 align=4 (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (v128.store offset=0 align=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $c0))
        (v128.store offset=16 align=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $c1))
        (v128.store offset=32 align=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $c2))
        (v128.store offset=48 align=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $c3))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $wide)))
    ;; then 4 at a time
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $nrows_done
          (loop $nrows
            (br_if $nrows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $c0 (f32x4.add (local.get $c0) (v128.load align=4 (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $nrows)))
        (v128.store align=4 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $c0))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $narrow)))
    ;; and the last columns one by one
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $s (f32.const 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $r (i32.const 0))
        (block $trows_done
          (loop $trows
            (br_if $trows_done (i32.ge_u (local.get $r) (local.get $rows)))
            (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $trows)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))))
