;; One Adam step for one weight, for the wasm backend: tfjs's AdamOptimizer runs
;; 14 kernels per weight per step; this is one pass, with the same float32
;; operations in the same order (so the same numbers):
;;   m' = m * b1 + g * (1 - b1)            v' = v * b2 + g * g * (1 - b2)
;;   w' = (m' / c1) / (sqrt(v' / c2) + eps) * (-lr) + w
;; where c1 = 1 - b1^t and c2 = 1 - b2^t (scalars in memory, as tfjs keeps them),
;; and g is the gradient times $scale (a global norm's clip; 1 leaves it as it is:
;; the same float32 multiply as scaling the gradient first).
;; Writes w', m', v' to new memory: tensors that share the old data keep it.
;; Built into adamWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "adam")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $c1p i32) (param $c2p i32)
    (param $wo i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $b1 f32) (param $b2 f32) (param $nb1 f32) (param $nb2 f32) (param $eps f32) (param $nlr f32) (param $scale f32)
    (local $i i32) (local $wide i32) (local $o i32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $scalev v128) (local $b1v v128) (local $b2v v128) (local $nb1v v128) (local $nb2v v128) (local $epsv v128) (local $nlrv v128) (local $c1v v128) (local $c2v v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $c1 f32) (local $c2 f32)
    (local.set $c1 (f32.load (local.get $c1p)))
    (local.set $c2 (f32.load (local.get $c2p)))
    (local.set $scalev (f32x4.splat (local.get $scale)))
    (local.set $b1v (f32x4.splat (local.get $b1)))
    (local.set $b2v (f32x4.splat (local.get $b2)))
    (local.set $nb1v (f32x4.splat (local.get $nb1)))
    (local.set $nb2v (f32x4.splat (local.get $nb2)))
    (local.set $epsv (f32x4.splat (local.get $eps)))
    (local.set $nlrv (f32x4.splat (local.get $nlr)))
    (local.set $c1v (f32x4.splat (local.get $c1)))
    (local.set $c2v (f32x4.splat (local.get $c2)))
    (local.set $wide (i32.and (local.get $n) (i32.const -4)))
    ;; four at a time
    (block $wide_done
      (loop $wide_loop
        (br_if $wide_done (i32.ge_u (local.get $i) (local.get $wide)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gv (f32x4.mul (v128.load align=4 (i32.add (local.get $g) (local.get $o))) (local.get $scalev)))
        (local.set $mv (f32x4.add (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $o))) (local.get $b1v)) (f32x4.mul (local.get $gv) (local.get $nb1v))))
        (local.set $vv (f32x4.add (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $o))) (local.get $b2v)) (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $nb2v))))
        (v128.store align=4 (i32.add (local.get $mo) (local.get $o)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $vo) (local.get $o)) (local.get $vv))
        (v128.store align=4 (i32.add (local.get $wo) (local.get $o))
          (f32x4.add
            (f32x4.mul
              (f32x4.div (f32x4.div (local.get $mv) (local.get $c1v)) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $c2v))) (local.get $epsv)))
              (local.get $nlrv))
            (v128.load align=4 (i32.add (local.get $w) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $wide_loop)))
    ;; then one by one
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.mul (f32.load (i32.add (local.get $g) (local.get $o))) (local.get $scale)))
        (local.set $ms (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1)) (f32.mul (local.get $gs) (local.get $nb1))))
        (local.set $vs (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2)) (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $nb2))))
        (f32.store (i32.add (local.get $mo) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $vo) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $wo) (local.get $o))
          (f32.add
            (f32.mul
              (f32.div (f32.div (local.get $ms) (local.get $c1)) (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
              (local.get $nlr))
            (f32.load (i32.add (local.get $w) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))))
