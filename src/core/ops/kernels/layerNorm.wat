;; Layer normalisation over the last axis, forward and backward, for the wasm
;; backend: y = (x - mean) / sqrt(var + eps) * g + b per row of x [rows, cols]
;; (float32, cols a multiple of 4: the caller checks). tfjs composes it from
;; about 9 kernels forward and 20 backward, each a pass over memory; these are
;; one pass (forward) and two (backward). The mean and the variance are two
;; passes over the row, as tf.moments computes them.
;; Built into layerNormWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))

  ;; Sum of the four lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; y, and per row the mean and 1 / sqrt(var + eps) (kept for the backward pass).
  (func (export "layerNorm") (param $x i32) (param $g i32) (param $b i32) (param $y i32) (param $mean i32) (param $rstd i32) (param $rows i32) (param $cols i32) (param $eps f32)
    (local $r i32) (local $j i32) (local $rb i32) (local $xr i32) (local $yr i32)
    (local $acc v128) (local $d v128) (local $m f32) (local $s f32) (local $mv v128) (local $sv v128)
    (local.set $rb (i32.shl (local.get $cols) (i32.const 2)))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rb))))
        (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $rb))))
        ;; mean
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $s1 (loop $l1
          (br_if $s1 (i32.ge_u (local.get $j) (local.get $rb)))
          (local.set $acc (f32x4.add (local.get $acc) (v128.load align=4 (i32.add (local.get $xr) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l1)))
        (local.set $m (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $cols))))
        (local.set $mv (f32x4.splat (local.get $m)))
        ;; variance of x - mean
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $s2 (loop $l2
          (br_if $s2 (i32.ge_u (local.get $j) (local.get $rb)))
          (local.set $d (f32x4.sub (v128.load align=4 (i32.add (local.get $xr) (local.get $j))) (local.get $mv)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l2)))
        (local.set $s (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (call $hsum (local.get $acc)) (f32.convert_i32_u (local.get $cols))) (local.get $eps)))))
        (local.set $sv (f32x4.splat (local.get $s)))
        (f32.store (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2))) (local.get $m))
        (f32.store (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        ;; y = (x - mean) * rstd * g + b
        (local.set $j (i32.const 0))
        (block $s3 (loop $l3
          (br_if $s3 (i32.ge_u (local.get $j) (local.get $rb)))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j))
            (f32x4.add
              (f32x4.mul
                (f32x4.mul (f32x4.sub (v128.load align=4 (i32.add (local.get $xr) (local.get $j))) (local.get $mv)) (local.get $sv))
                (v128.load align=4 (i32.add (local.get $g) (local.get $j))))
              (v128.load align=4 (i32.add (local.get $b) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l3)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))

  ;; dx per row; dg and db summed over the rows (in row order). With xhat = (x - mean) * rstd
  ;; and dxhat = dy * g: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
  (func (export "layerNormGrad") (param $dy i32) (param $x i32) (param $g i32) (param $mean i32) (param $rstd i32) (param $dx i32) (param $dg i32) (param $db i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $rb i32) (local $xr i32) (local $dyr i32) (local $dxr i32)
    (local $mv v128) (local $sv v128) (local $xh v128) (local $dyv v128) (local $dxh v128)
    (local $a1 v128) (local $a2 v128) (local $c1 v128) (local $c2 v128) (local $n f32)
    (local.set $rb (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $n (f32.convert_i32_u (local.get $cols)))
    (memory.fill (local.get $dg) (i32.const 0) (local.get $rb))
    (memory.fill (local.get $db) (i32.const 0) (local.get $rb))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rb))))
        (local.set $dyr (i32.add (local.get $dy) (i32.mul (local.get $r) (local.get $rb))))
        (local.set $dxr (i32.add (local.get $dx) (i32.mul (local.get $r) (local.get $rb))))
        (local.set $mv (v128.load32_splat align=4 (i32.add (local.get $mean) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $sv (v128.load32_splat align=4 (i32.add (local.get $rstd) (i32.shl (local.get $r) (i32.const 2)))))
        ;; first pass: dg += dy * xhat, db += dy; the row's sums of dxhat and dxhat * xhat
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $s1 (loop $l1
          (br_if $s1 (i32.ge_u (local.get $j) (local.get $rb)))
          (local.set $xh (f32x4.mul (f32x4.sub (v128.load align=4 (i32.add (local.get $xr) (local.get $j))) (local.get $mv)) (local.get $sv)))
          (local.set $dyv (v128.load align=4 (i32.add (local.get $dyr) (local.get $j))))
          (v128.store align=4 (i32.add (local.get $dg) (local.get $j)) (f32x4.add (v128.load align=4 (i32.add (local.get $dg) (local.get $j))) (f32x4.mul (local.get $dyv) (local.get $xh))))
          (v128.store align=4 (i32.add (local.get $db) (local.get $j)) (f32x4.add (v128.load align=4 (i32.add (local.get $db) (local.get $j))) (local.get $dyv)))
          (local.set $dxh (f32x4.mul (local.get $dyv) (v128.load align=4 (i32.add (local.get $g) (local.get $j)))))
          (local.set $a1 (f32x4.add (local.get $a1) (local.get $dxh)))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $dxh) (local.get $xh))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l1)))
        (local.set $c1 (f32x4.splat (f32.div (call $hsum (local.get $a1)) (local.get $n))))
        (local.set $c2 (f32x4.splat (f32.div (call $hsum (local.get $a2)) (local.get $n))))
        ;; second pass: dx
        (local.set $j (i32.const 0))
        (block $s2 (loop $l2
          (br_if $s2 (i32.ge_u (local.get $j) (local.get $rb)))
          (local.set $xh (f32x4.mul (f32x4.sub (v128.load align=4 (i32.add (local.get $xr) (local.get $j))) (local.get $mv)) (local.get $sv)))
          (local.set $dxh (f32x4.mul (v128.load align=4 (i32.add (local.get $dyr) (local.get $j))) (v128.load align=4 (i32.add (local.get $g) (local.get $j)))))
          (v128.store align=4 (i32.add (local.get $dxr) (local.get $j))
            (f32x4.mul (local.get $sv) (f32x4.sub (f32x4.sub (local.get $dxh) (local.get $c1)) (f32x4.mul (local.get $xh) (local.get $c2)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $l2)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row)))))
